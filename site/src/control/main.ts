import { mount } from 'svelte';
import ControlApp from './ControlApp.svelte';

mount(ControlApp, { target: document.getElementById('app')! });
