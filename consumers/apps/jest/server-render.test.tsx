// Server rendering where a DOM exists (Jest's jsdom environment): the
// provider and the hooks render their first state, with nothing on the
// console (React 18 warns about a layout effect rendered on the server).
import { expect, jest, test } from "@jest/globals";
import { PollingProvider, usePolling, usePollingContext } from "smart-polling/react";

function Generation({ fileId }: { fileId: string }) {
  const { status } = usePolling(usePollingContext(), fileId);
  return <p>{status}</p>;
}

test("renderToString of the provider and usePolling: idle, and no console output", () => {
  // react-dom/server's browser build needs them; Jest's jsdom leaves them out
  const { TextEncoder, TextDecoder } = require("node:util");
  Object.assign(globalThis, { TextEncoder, TextDecoder });
  const { renderToString } = require("react-dom/server");
  const error = jest.spyOn(console, "error");
  const warn = jest.spyOn(console, "warn");
  const html = renderToString(
    <PollingProvider>
      <Generation fileId="file_1" />
    </PollingProvider>,
  );
  expect(html).toBe("<p>idle</p>");
  expect(error.mock.calls).toEqual([]);
  expect(warn.mock.calls).toEqual([]);
});
