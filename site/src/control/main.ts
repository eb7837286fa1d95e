import { mount } from 'svelte';
// The shared page styles first: each page's own come after them.
import '../base.css';
import ControlApp from './ControlApp.svelte';

mount(ControlApp, { target: document.getElementById('app')! });
