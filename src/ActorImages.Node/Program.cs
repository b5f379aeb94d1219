using ActorImages.Catalog;
using ActorImages.Node;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Gateways;
using ActorImages.Node.Http;
using ActorImages.Node.Ingest;
using ActorImages.Node.Tracker;
using ActorImages.Node.Transfer;
using ActorImages.Storage;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Serilog;

// One ActorImages node (docs/design.md): the Akka.NET cluster member with its registry, tracker view and gateways,
// and Kestrel serving the HTTP API (actorimages.http.port) and the P2 WebSocket (actorimages.p2.port).
// Running out of memory ends the process at once (issue 9, "Big messages"; README "Limits and security"): an
// OutOfMemoryException caught by an actor's supervisor or by Kestrel would leave a half-working member in the cluster.
// bin/cluster's supervisor, or the container's restart policy, starts the node again with backoff.
AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
{
    if (e.Exception is OutOfMemoryException) Environment.FailFast("ActorImages node: out of memory");
};
NodeMetrics.LimitDefaultMetrics();
var config = NodeConfig.Load(NodeConfig.ProcessEnvironment());
var settings = NodeSettings.Create(config);

var nodeLog = NodeLog.Start(settings.LogBuffer);
Log.Information("ActorImages node {Host} starting: data {DataDir}", settings.Host, settings.DataDir);

var exitCode = await NodeHost.RunAsync(settings, config, args);
Log.Information("ActorImages node {Host} exits with code {Code}", settings.Host, exitCode);
await nodeLog.CloseAsync(NodeLog.CloseTimeout);
return exitCode;
