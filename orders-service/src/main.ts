import { runService } from '@market/common';
import { startOrdersService } from './app';
import { loadOrdersConfig } from './config';

runService('orders-service', () => startOrdersService(loadOrdersConfig()));
