import { createLogger, runService } from '@market/common';
import { startGateway } from './app';
import { loadGatewayConfig } from './config';

runService('api-gateway', async () => {
  const config = loadGatewayConfig();
  return startGateway(config, createLogger('api-gateway', config.LOG_LEVEL));
});
