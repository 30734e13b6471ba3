// The Functions host loads this file (package.json "main"); every function is registered by registerApp.
import { registerApp } from './registerApp.js';

registerApp({ env: process.env });
