// Hash routes: #/live (default), #/history, #/run/<id>, #/compare/<id>,<id>[,...]. Hash routing
// keeps eprof-web's file serving simple (one index.html) and survives reloads.
import { useEffect, useState } from "react";

export type Route =
  | { page: "live" }
  | { page: "history" }
  | { page: "run"; id: string }
  | { page: "compare"; ids: string[] };

const decode = (part: string) => {
  try { return decodeURIComponent(part); } catch { return part; }  // a malformed escape: as typed
};

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decode);
  switch (parts[0]) {
    case "history": return { page: "history" };
    case "run": return parts[1] ? { page: "run", id: parts[1] } : { page: "history" };
    case "compare": return { page: "compare", ids: (parts[1] ?? "").split(",").filter(Boolean) };
    default: return { page: "live" };
  }
}

export const href = {
  live: () => "#/live",
  history: () => "#/history",
  run: (id: string) => `#/run/${encodeURIComponent(id)}`,
  compare: (ids: readonly string[]) => `#/compare/${ids.map(encodeURIComponent).join(",")}`,
};

export function navigate(to: string): void {
  window.location.hash = to;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseRoute(hash);
}
