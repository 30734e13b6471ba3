/** Part of `npm run build`: the dashboard's static files go next to the compiled app, which is what deploys. */
import { join, resolve } from 'node:path';
import { copyDashboardAssets } from '../src/functions/dashboard/serveDashboard.js';

const root = resolve(__dirname, '../..');
copyDashboardAssets(join(root, 'src/dashboard'), join(root, 'dist/src/dashboard'));
