// Baseline C — the least a password sign-in can cost: bare Express 5, one MySQL read of the user
// by email (mysql2, indexed unique column), and bcrypt.compare against the stored hash. It reads the
// very rows users-service wrote (bench_users.users, hashed with the same BCRYPT_ROUNDS), so both
// sides pay exactly the same bcrypt cost, which dominates both: that is the honest point of it.
// It does less than the project on purpose: no hop (gateway → users-service), no refresh-token
// INSERT and no JWT signing — the price of those is what the ratio shows.
//
//   POST /signin { email, password } → 200 { user } | 401
//
// Env: PORT, MYSQL_URL, SIGNIN_DB (default bench_users).
import bcrypt from 'bcrypt';
import express from 'express';
import mysql from 'mysql2/promise';
import { mysqlOptions, serve } from './serve.mjs';

const port = Number(process.env.PORT ?? 18093);
const pool = mysql.createPool(mysqlOptions(process.env.SIGNIN_DB ?? 'bench_users'));
// Compared against for an unknown email, as users-service does, so both failures cost the same.
const dummyHash = bcrypt.hashSync('not-a-real-password', 10);

async function signIn(req, res) {
  const email = String(req.body?.email ?? '').trim().toLowerCase();
  const [rows] = await pool.query('SELECT id, email, name, password_hash, role, created_at FROM users WHERE email = ?', [email]);
  const user = rows[0];
  const matches = await bcrypt.compare(String(req.body?.password ?? ''), user?.password_hash ?? dummyHash);
  if (!user || !matches) return void res.status(401).json({ status: 401, code: 'invalid_credentials' });
  res.json({ user: { id: user.id, email: user.email, name: user.name, role: user.role, createdAt: user.created_at.toISOString() } });
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/readyz', async (_req, res) => {
  await pool.query('SELECT 1');
  res.json({ status: 'ready' });
});
app.post('/signin', express.json({ limit: '100kb' }), signIn);

serve('http-signin baseline', app, port, () => pool.end());
