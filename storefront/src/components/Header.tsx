import { useState } from 'preact/hooks';
import type { User } from '../api';
import { href, navigate, signInPath } from '../router';
import { isAdmin, signOut } from '../session';

export function Header({ user, path }: { user: User | null; path: string }) {
  const [leaving, setLeaving] = useState(false);
  const comeBack = path === '/signin' || path === '/signup' ? '/' : path;
  const current = (target: string) => (path === target ? 'page' : undefined);

  async function onSignOut() {
    setLeaving(true);
    await signOut();
    setLeaving(false);
    navigate('/');
  }

  return (
    <header class="site-header">
      <nav aria-label="Main">
        <a class="brand" href={href('/')} aria-current={current('/')}>
          Market
        </a>
        {user ? (
          <ul class="nav-links">
            <li class="user-name">{user.name}</li>
            <li>
              <a href={href('/sell')} aria-current={current('/sell')}>
                Sell
              </a>
            </li>
            <li>
              <a href={href('/orders')} aria-current={current('/orders')}>
                My orders
              </a>
            </li>
            {isAdmin(user) && (
              <li>
                <a href={href('/admin/coupons')} aria-current={current('/admin/coupons')}>
                  Coupons
                </a>
              </li>
            )}
            <li>
              <button type="button" class="link-button" onClick={onSignOut} disabled={leaving}>
                Sign out
              </button>
            </li>
          </ul>
        ) : (
          <ul class="nav-links">
            <li>
              <a href={href(signInPath(comeBack))} aria-current={current('/signin')}>
                Sign in
              </a>
            </li>
            <li>
              <a href={href(`/signup?next=${encodeURIComponent(comeBack)}`)} aria-current={current('/signup')}>
                Sign up
              </a>
            </li>
          </ul>
        )}
      </nav>
    </header>
  );
}
