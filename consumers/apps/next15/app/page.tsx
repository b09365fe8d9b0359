// A server component rendering the client component that uses `usePolling`.
import { Generation } from "./Generation";

export default function Page() {
  return <Generation />;
}
