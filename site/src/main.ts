import { mount } from 'svelte';
// The shared page styles first: each page's own come after them.
import './base.css';
import App from './App.svelte';

mount(App, { target: document.getElementById('app')! });
