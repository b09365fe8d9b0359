// The demo API and its media behind the app's own origin, as a real app's
// proxy routes would put them (the hooks' default urls are /api/...). Next
// writes rewrites into the build, so DEMO_API_URL is read by `next build`
// (and again by `next start`, which loads this file too).
const api = process.env.DEMO_API_URL;
if (!api) throw new Error("next.config.mjs: set DEMO_API_URL to the demo server's url");

/** @type {import("next").NextConfig} */
const config = {
  async rewrites() {
    return [
      { source: "/api/:path*", destination: `${api}/api/:path*` },
      { source: "/media/:path*", destination: `${api}/media/:path*` },
    ];
  },
};

export default config;
