import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

export default defineConfig({ ...sharedTsupConfig });
