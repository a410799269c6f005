import express, { type Response, type Router } from 'express';
import { dependenciesResponse, type DependencyReport, HEALTH_HEADERS, HEALTH_PATHS, type HealthResponse, livenessResponse, type Readiness, readinessResponse } from './index';

const send = (res: Response, answer: HealthResponse): void => void res.status(answer.status).set(HEALTH_HEADERS).json(answer.body);

/**
 * `/healthz` and `/readyz` on an Express app, and `/health/dependencies` when `dependencies` is given:
 * leave it out on a public port, where the report would tell anyone what the process depends on.
 */
export function healthRoutes(opts: { readiness: Readiness; dependencies?: () => Promise<DependencyReport> }): Router {
  const router = express.Router();
  router.get(HEALTH_PATHS.liveness, (_req, res) => send(res, livenessResponse()));
  router.get(HEALTH_PATHS.readiness, async (_req, res) => send(res, await readinessResponse(opts.readiness)));
  const { dependencies } = opts;
  if (dependencies) router.get(HEALTH_PATHS.dependencies, async (_req, res) => send(res, await dependenciesResponse(dependencies)));
  return router;
}
