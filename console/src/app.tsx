import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter";
import { useHashLocation } from "wouter/use-hash-location";
import { AccessPage } from "./access/access-page.js";
import { useConnection } from "./connection/connection-context.js";
import type { Access } from "./connection/access.js";
import { ConsumersPage } from "./consumers/consumers-page.js";
import { DocumentsPage } from "./documents/documents-page.js";
import { EntitiesPage } from "./entities/entities-page.js";
import { LogPage } from "./log/log-page.js";

const pages = [
  { path: "/log", title: "Log" },
  { path: "/entities", title: "Entities" },
  { path: "/documents", title: "Documents" },
  { path: "/consumers", title: "Consumers" },
  { path: "/access", title: "Access" },
] as const;

const accessLabels: Record<Access["kind"], string> = {
  write: "read and write",
  read: "read-only",
  refused: "refused",
  unreachable: "unreachable",
};
const accessLabel = (access: Access | undefined) => (access === undefined ? "checking" : accessLabels[access.kind]);

/** A page's link, marked current on the page and on everything under it (`#/entities/<id>` for Entities). */
function PageLink(props: { path: string; title: string }) {
  const [location] = useLocation();
  const current = location === props.path || location.startsWith(`${props.path}/`);
  return (
    <Link href={props.path} className={current ? "active" : ""} aria-current={current ? "page" : undefined}>
      {props.title}
    </Link>
  );
}

/** What the token may do, in the header, so a read-only session is never a surprise. */
function AccessBadges() {
  const { access } = useConnection();
  return (
    <p className="access-badges" aria-live="polite">
      <span data-access={access?.eventStore.kind ?? "checking"}>Event Store: {accessLabel(access?.eventStore)}</span>
      <span data-access={access?.crudStore.kind ?? "checking"}>Crud Store: {accessLabel(access?.crudStore)}</span>
    </p>
  );
}

/** The console: a header with the pages, and the page the URL's hash names (`#/log`, `#/documents/acme.User`, …). */
export function App() {
  return (
    <Router hook={useHashLocation}>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}
      >
        Skip to content
      </a>
      <header className="app-header">
        <span className="app-name">ESKIT console</span>
        <nav aria-label="Pages">
          {pages.map((page) => (
            <PageLink key={page.path} path={page.path} title={page.title} />
          ))}
        </nav>
        <AccessBadges />
      </header>
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/log" component={LogPage} />
          <Route path="/entities/:originatorId?" component={EntitiesPage} />
          <Route path="/documents" nest>
            <DocumentsPage />
          </Route>
          <Route path="/consumers" component={ConsumersPage} />
          <Route path="/access" component={AccessPage} />
          <Route>
            <Redirect to="/log" />
          </Route>
        </Switch>
      </main>
    </Router>
  );
}
