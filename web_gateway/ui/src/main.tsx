// The dashboard's entry point: one React root, the client to eprofd through the page's own origin.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { App } from "./app/App";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App baseUrl={window.location.origin} />
  </StrictMode>,
);
