import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { ConnectionProvider } from "./connection/connection-context.js";
import { defaultSettings, fetchServedConfig, loadSettings } from "./connection/settings.js";

// Where the services are: what this tab chose earlier, else what the serving server says (config.json), else this
// host at make run's ports.
const served = await fetchServedConfig();
const initial = loadSettings(sessionStorage, defaultSettings(window.location, served));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ConnectionProvider initial={initial}>
      <App />
    </ConnectionProvider>
  </StrictMode>,
);
