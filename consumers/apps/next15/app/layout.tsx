// A server component (no directive): the provider of `smart-polling/react`
// (a client module) wraps every page, as an app would mount it once.
import type { ReactNode } from "react";
import { PollingProvider } from "smart-polling/react";

export const metadata = { title: "smart-polling on Next.js" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <PollingProvider options={{ maxStreams: 2 }}>{children}</PollingProvider>
      </body>
    </html>
  );
}
