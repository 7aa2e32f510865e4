// Package interop holds the interoperability test between Restore Desk's JD Cloud simulator
// and the official JD Cloud JavaScript SDK (npm jdcloud-sdk-js 1.2.202, pinned in
// testdata/package.json and package-lock.json). The test installs the SDK into
// testdata/node_modules when it is missing (npm ci), serves the simulator on loopback and runs
// testdata/interop.js against it with Node.js. There is no non-test code here.
package interop
