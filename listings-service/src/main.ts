import { runService } from '@market/common';
import { startListingsService } from './app';
import { loadListingsConfig } from './config';

runService('listings-service', () => startListingsService(loadListingsConfig()));
