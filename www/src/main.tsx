import { Component, StrictMode, type ErrorInfo, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { PollingProvider } from "@react/hooks";
import { App } from "./App";
import "./styles.css";

// ?debug logs every state change of every job to the console.
const debug = new URLSearchParams(location.search).has("debug");

class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("smart-polling demo crashed:", error, info.componentStack);
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="crash" role="alert">
        <h1>The demo could not start</h1>
        <p>{this.state.error.message}</p>
        <p className="muted">
          Is <code>pkg/</code> built (<code>npm run build</code>) and is <code>smart_polling_bg.wasm</code> served with
          the page?
        </p>
      </div>
    );
  }
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ErrorBoundary>
      <PollingProvider options={{ maxStreams: 2, debug }}>
        <App />
      </PollingProvider>
    </ErrorBoundary>
  </StrictMode>,
);
