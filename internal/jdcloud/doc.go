// Package jdcloud is Restore Desk's client for the JD Cloud OpenAPI: the RDS and VPC calls
// the portal needs, JDCLOUD2-HMAC-SHA256 request signing (and the matching verifier the
// simulator uses), typed results, typed errors with the retry classification the restore
// workflow depends on, the static instance-class table (RDS has no class API) and the one
// table of createInstanceFromBackup parameter rules shared by the request form and the
// simulator.
//
// The wire facts come from JD Cloud's documentation and official SDKs; where those could not
// confirm a fact, the code says "assumed" next to it so a wrong guess is a one-line change.
//
// The package knows nothing of HTTP servers, templates or databases: it is a thin client
// named after what it talks to.
package jdcloud
