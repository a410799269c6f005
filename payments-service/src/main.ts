import { runService } from '@market/common';
import { startPaymentsService } from './app';
import { loadPaymentsConfig } from './config';

runService('payments-service', () => startPaymentsService(loadPaymentsConfig()));
