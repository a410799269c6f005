import { createLogger, runService } from '@market/common';
import { startUsersService } from './app';
import { loadUsersConfig } from './config';

runService('users-service', async () => {
  const config = loadUsersConfig();
  return startUsersService(config, createLogger('users-service', config.LOG_LEVEL));
});
