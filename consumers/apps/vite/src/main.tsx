import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { PollingProvider } from "smart-polling/react";
import { Generation } from "./Generation";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <PollingProvider options={{ maxStreams: 2 }}>
      <Generation />
    </PollingProvider>
  </StrictMode>,
);
