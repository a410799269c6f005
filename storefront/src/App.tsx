import { useEffect, useRef } from 'preact/hooks';
import { Header } from './components/Header';
import { useTitle } from './hooks';
import { SignInPage, SignUpPage } from './pages/Auth';
import { BrowsePage } from './pages/Browse';
import { CheckoutPage } from './pages/Checkout';
import { CouponsPage } from './pages/Coupons';
import { ListingPage } from './pages/Listing';
import { OrderPage, OrdersPage } from './pages/Orders';
import { EditListingPage, SellPage } from './pages/Sell';
import { href, navigate, type Route, signInPath, useLocation } from './router';
import { useUser } from './session';
import type { User } from './api';

const NEEDS_USER = new Set<Route['page']>(['checkout', 'orders', 'order', 'sell', 'edit-listing', 'coupons']);

function NotFound() {
  useTitle('Not found');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        There is no such page. <a href={href('/')}>See the listings</a>
      </p>
    </section>
  );
}

function pageFor(route: Route, query: URLSearchParams, user: User | null) {
  switch (route.page) {
    case 'browse':
      return <BrowsePage params={query} />;
    case 'listing':
      return <ListingPage id={route.id} />;
    case 'signin':
      return <SignInPage params={query} />;
    case 'signup':
      return <SignUpPage params={query} />;
    case 'not-found':
      return <NotFound />;
  }
  if (!user) return null;
  switch (route.page) {
    case 'edit-listing':
      return <EditListingPage id={route.id} user={user} />;
    case 'checkout':
      return <CheckoutPage orderId={route.orderId} />;
    case 'orders':
      return <OrdersPage />;
    case 'order':
      return <OrderPage id={route.id} />;
    case 'sell':
      return <SellPage user={user} />;
    case 'coupons':
      return <CouponsPage user={user} />;
  }
}

export function App() {
  const location = useLocation();
  const user = useUser();
  const { route, path, query } = location;
  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);
  const mustSignIn = NEEDS_USER.has(route.page) && !user;

  // A page that needs an account sends a signed-out visitor to sign in, and back here afterwards.
  useEffect(() => {
    if (mustSignIn) navigate(signInPath(path), { replace: true });
  }, [mustSignIn, path]);

  // On every page change, focus moves to the new page's heading (not on the first page: the visitor
  // has not done anything yet), so keyboard and screen reader users start reading where the page starts.
  useEffect(() => {
    window.scrollTo(0, 0);
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    const frame = requestAnimationFrame(() => main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true }));
    return () => cancelAnimationFrame(frame);
  }, [path]);

  function skipToContent(event: Event) {
    event.preventDefault();
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }

  const page = mustSignIn ? null : pageFor(route, query, user);

  return (
    <>
      <a class="skip-link" href="#" onClick={skipToContent}>
        Skip to content
      </a>
      <Header user={user} path={path} />
      <main id="main" ref={main}>
        {/* A new page (another path) starts with fresh state. */}
        <div key={`${path}:${user?.id ?? ''}`}>{page}</div>
      </main>
      <footer class="site-footer">
        <a href="/docs">API documentation</a>
      </footer>
    </>
  );
}
