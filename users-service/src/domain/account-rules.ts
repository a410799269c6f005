import { type Actor, type AppError, problem } from '@market/common';

// The rules several account use cases check: who may manage an account, and that one admin always remains.

export const mayManage = (actor: Actor, userId: string): boolean => actor.id === userId || actor.role === 'admin';

export const lastAdmin = (): AppError => problem('last_admin');
