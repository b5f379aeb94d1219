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
// Running out of memory ends the process at once (README "Limits and security"). A thread that cannot start is not
// memory, but .NET 10 aborts when its thread pool meets one: the pool is bounded under a pids limit (ThreadBudget).
OutOfMemoryPolicy.Install();
NodeMetrics.LimitDefaultMetrics();
var config = NodeConfig.Load(NodeConfig.ProcessEnvironment());
var settings = NodeSettings.Create(config);

var nodeLog = NodeLog.Start(settings.LogBuffer);
Log.Information("ActorImages node {Host} starting: data {DataDir}", settings.Host, settings.DataDir);
// Every connection holds a descriptor: the listeners' bounds must fit the open-file limit (README "Limits and security").
var openFileLimit = DescriptorBudget.OpenFileLimit();
settings = DescriptorBudget.Fit(settings, openFileLimit, out var lowered);
if (lowered is not null) Log.Warning("connection bounds lowered: {Reason}", lowered);
NodeMetrics.ConnectionBounds(settings.P1MaxConnections, settings.P4MaxConnections, settings.HttpMaxConnections, openFileLimit);
KestrelConnections.Start(settings.HttpMaxConnections);
// HEIC, HEIF and AVIF thumbnails need libheif's renderer (README "What gets in"); the images get in without it.
if (!HeifThumbnailer.IsAvailable)
    Log.Warning("{Program} or prlimit not found on PATH: no thumbnails of HEIC, HEIF and AVIF until they are installed " +
        "(Debian package {Program}; looked for again every {Seconds} s)", HeifThumbnailer.Program, HeifThumbnailer.Program,
        HeifThumbnailer.LookupRetryMs / 1000);

var exitCode = await NodeHost.RunAsync(settings, config, args);
Log.Information("ActorImages node {Host} exits with code {Code}", settings.Host, exitCode);
await nodeLog.CloseAsync(NodeLog.CloseTimeout);
return exitCode;
