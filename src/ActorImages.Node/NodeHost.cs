using ActorImages.Catalog;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Gateways;
using ActorImages.Node.Http;
using ActorImages.Node.Ingest;
using ActorImages.Node.Repair;
using ActorImages.Node.Tracker;
using ActorImages.Node.Transfer;
using ActorImages.Storage;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Serilog;

namespace ActorImages.Node;

/// <summary>
/// Builds and runs one node: services, the actor system (Akka.Hosting), the gateways and Kestrel. Every exit path
/// ends the process within <see cref="NodeSettings.ExitDeadline"/>: a leave, a downing by the Split Brain Resolver
/// (exit code 3, for <c>bin/cluster</c>'s supervisor), or a fatal error.
/// </summary>
public static class NodeHost
{
    /// <summary>Time open HTTP and P2 sessions get once the node stops (see <see cref="RunAsync"/>).</summary>
    private static readonly TimeSpan SessionGrace = TimeSpan.FromSeconds(5);

    /// <summary>Exit code of a node that the Split Brain Resolver downed (docs/design.md, "Membership and failure").</summary>
    public const int DownedExitCode = 3;

    /// <summary>Runs the node until it is stopped (SIGTERM, SIGINT) or leaves the cluster.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="config">The whole configuration, Akka's included.</param>
    /// <param name="args">Command-line arguments, passed to ASP.NET Core.</param>
    /// <returns>The process exit code: 0 after a requested stop, 3 when downed, 1 on a fatal error.</returns>
    public static async Task<int> RunAsync(NodeSettings settings, Akka.Configuration.Config config, string[] args)
    {
        RemoteTls tls;
        try
        {
            tls = RemoteTls.Load(config, DateTimeOffset.UtcNow);
        }
        catch (Akka.Configuration.ConfigurationException e)
        {
            Log.Fatal("refusing to start: {Error}", e.Message);
            return 1;
        }
        if (!tls.Enabled)
            Log.Warning("cluster remoting is PLAIN TCP (actorimages.remote-tls.enabled = off): any process that reaches " +
                        "{Host}:{Port} can join the cluster, down its members and send any message",
                        settings.Host, config.GetInt("akka.remote.dot-netty.tcp.port"));
        config = tls.WithTransportSeeds(config);
        if (settings.ClusterBootstrap) config = ClusterBootstrapping.Hocon(settings).WithFallback(config);
        var database = await OpenDatabaseAsync(settings.DbUrl);
        if (database is null) return 1;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Host.UseSerilog();
        builder.WebHost.ConfigureKestrel(k =>
        {
            KestrelConnections.Watch(k); // before the endpoints: it adds to each
            var ip = System.Net.IPAddress.Parse(settings.Host);
            k.Listen(ip, settings.HttpPort);
            k.Listen(ip, settings.P2Port);
            if (settings.ClusterBootstrap) k.Listen(ip, settings.ManagementPort); // Cluster Bootstrap's contact point
            if (tls.Enabled) ReplicaChannel.Listen(k, ip, settings.ReplicaPort, tls); // replica copies, HTTPS both ways
            k.Limits.MaxRequestBodySize = settings.MaxImageBytes;
            // A connection that sends nothing (before its first request or between two) is closed after 30 s, as a
            // P1 connection is: a silent slow-loris holds no slot for long (README "Limits and security").
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(1024, TimeSpan.FromSeconds(10));
            k.Limits.MinResponseDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(1024, TimeSpan.FromSeconds(10));
            k.Limits.MaxConcurrentConnections = settings.HttpMaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = settings.HttpMaxConnections / 2;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ExitDeadline);

        // This node's name in placement and the catalog (RemoteTls.NodeName): akka.tcp whether or not remoting is TLS.
        var selfAddress = $"{RemoteTls.PlainProtocol}://ActorImages@{settings.Host}:{config.GetInt("akka.remote.dot-netty.tcp.port")}";
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(database);
        services.AddSingleton(database.Catalog);
        services.AddSingleton(database.Tracker);
        var blobs = new BlobStore(settings.DataDir, settings.MaxImageBytes, settings.MaxImagePixels);
        // Uploads and copies a crash or a kill interrupted, before any writer exists (the orphan sweep would take an
        // hour, orphan-grace, to remove them, and a node crashing in a loop would pile them up meanwhile).
        try
        {
            if (blobs.RemoveLeftoverTempFiles() is > 0 and var leftovers)
                Log.Information("removed {Count} temp files of uploads a stop interrupted", leftovers);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not a reason to stay down: the orphan sweep tries again once they are older than orphan-grace.
            Log.Warning("could not remove the temp files of interrupted uploads in {Folder}: {Error}", blobs.TempDir, e.Message);
        }
        services.AddSingleton(blobs);
        services.AddSingleton(new Membership(selfAddress));
        services.AddSingleton<ImageFeed>();
        services.AddSingleton(new LstView(settings.P4Port));
        services.AddSingleton<NodeMetrics>();
        services.AddSingleton<SharedTotals>();
        services.AddSingleton(tls);
        // Without HttpClientFactory's logging handlers: they open a logging scope and format "Sending HTTP request" for
        // every replica copy, which the log level then drops; ReplicaTransfer reports failed copies itself.
        services.AddHttpClient<ReplicaTransfer>().RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => ReplicaChannel.ClientHandler(tls, settings.ReplicaConnectionsPerPeer));
        services.AddSingleton<Ingestion>();
        services.AddSingleton<ScrubRequests>();
        services.AddSingleton<LocalCopies>();
        services.AddSingleton<ImageReader>();
        services.AddSingleton<WebSocketGateway>();
        services.AddSingleton(new UploadList(settings.P2ListMaxBytes));
        services.AddHostedService<UploadListLoader>();
        services.AddHostedService<FeedCatchUp>();
        services.AddHostedService<ThreadBudgetService>();
        services.AddSingleton<Thumbnails>();
        services.AddSingleton<StopAnnouncement>();
        services.AddSingleton<LeaveState>();
        services.AddSingleton<ReplicaFetcher>();
        services.AddSingleton<ReplicaRepair>();
        services.AddSingleton<Scrubber>();
        services.AddSingleton<OrphanSweep>();
        services.AddSingleton<TcpIngestGateway>().AddHostedService(sp => sp.GetRequiredService<TcpIngestGateway>());
        services.AddSingleton<PeerGetGateway>().AddHostedService(sp => sp.GetRequiredService<PeerGetGateway>());
        services.AddSingleton<UdpTrackerGateway>().AddHostedService(sp => sp.GetRequiredService<UdpTrackerGateway>());
        ActorSystem? actorSystem = null; // for the exit code, read after the host (and its service provider) is gone
        services.AddAkka("ActorImages", (b, sp) =>
        {
            b.AddHocon(config.WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig()), HoconAddMode.Prepend);
            b.WithRemoting(tls.Options(settings.Host, config.GetInt("akka.remote.dot-netty.tcp.port")));
            b.WithClustering(new ClusterOptions { Roles = [Membership.ImagesRole, Membership.FactorRole(settings.ReplicationFactor)] });
            b.WithDistributedPubSub(Membership.ImagesRole);
            b.WithSingleton<TrackerActor>(TrackerHandOver.SingletonName,
                TrackerActor.Props(sp.GetRequiredService<TrackerStore>(), settings.P3MaxIdentitiesPerIp,
                    sp.GetRequiredService<NodeMetrics>()),
                new ClusterSingletonOptions { Role = Membership.ImagesRole }, createProxyToo: true);
            b.WithActors((system, registry) =>
            {
                var feed = sp.GetRequiredService<ImageFeed>();
                var membership = sp.GetRequiredService<Membership>();
                system.ActorOf(MembershipActor.Props(membership), "membership");
                if (settings.ClusterBootstrap)
                    ClusterBootstrapping.StartAsync(system, settings).ContinueWith(t =>
                    {
                        // A node whose bootstrap did not start never joins (it has no seeds): end it here, and its
                        // supervisor (compose's restart policy) starts it again.
                        Log.Fatal(t.Exception, "cluster bootstrap failed to start");
                        system.Terminate();
                    }, TaskContinuationOptions.OnlyOnFaulted);
                registry.Register<RegistryActor>(system.ActorOf(
                    RegistryActor.Props(sp.GetRequiredService<CatalogStore>(), feed, settings.CatalogBatchSize,
                        sp.GetRequiredService<NodeMetrics>()), "registry"));
                system.ActorOf(ImageTopicSubscriber.Props(feed), "image-topic");
                system.ActorOf(StopAnnouncementSubscriber.Props(sp.GetRequiredService<StopAnnouncement>()), "stop-topic");
                var stop = sp.GetRequiredService<StopAnnouncement>();
                var repair = system.ActorOf(RepairActor.Props(sp.GetRequiredService<ReplicaRepair>(), membership, stop, settings), "repair");
                GracefulLeave.Register(system, repair, stop, sp.GetRequiredService<LeaveState>());
                TrackerHandOver.Register(system, membership);
                if (settings.ScrubPace > TimeSpan.Zero)
                    system.ActorOf(ScrubActor.Props(sp.GetRequiredService<Scrubber>(), sp.GetRequiredService<CatalogStore>(), membership,
                        sp.GetRequiredService<ScrubRequests>(), sp.GetRequiredService<OrphanSweep>(), settings.ScrubPace,
                        settings.OrphanGrace), "scrub");
                system.ActorOf(TrackerViewActor.Props(sp.GetRequiredService<LstView>(), sp.GetRequiredService<TrackerStore>(),
                    sp.GetRequiredService<CatalogStore>(), feed, membership, settings.CatchUpInterval), "tracker-view");
                actorSystem = system;
                ExitWatchdog.TrackPhases(system);
                system.WhenTerminated.ContinueWith(_ =>
                {
                    ExitWatchdog.Stage("actor system terminated");
                    ExitWatchdog.Arm(settings.ExitDeadline, "actor system terminated", ExitCodeOf(system));
                    sp.GetRequiredService<IHostApplicationLifetime>().StopApplication();
                });
            });
        });

        var app = builder.Build();
        // Long-lived sessions (P2 WebSockets, the SSE feed) last until their client goes, and Kestrel's stop waits for
        // them until the host's shutdown timeout: one idle client kept a downed node alive for the whole exit
        // deadline before its supervisor could start it again, and turned a SIGTERM into a watchdog exit (code 1).
        // Every request ends at most SessionGrace after the stop began; uploads in flight get that long to finish (an
        // unanswered one is not acknowledged, so nothing is lost).
        var sessionsEnd = new CancellationTokenSource();
        app.Lifetime.ApplicationStopping.Register(() => sessionsEnd.CancelAfter(SessionGrace));
        app.Use(async (ctx, next) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, sessionsEnd.Token);
            ctx.RequestAborted = linked.Token;
            await next(ctx);
        });
        app.UseExceptionHandler(error => error.Run(async ctx =>
        {
            // The catalog being away is a 503 the client may retry, not a 500 (README "Failure and recovery").
            var failure = ctx.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Error;
            var status = failure is Npgsql.NpgsqlException or TimeoutException ? 503 : 500;
            ctx.Response.StatusCode = status;
            await ctx.Response.WriteAsJsonAsync(new { status, error = status == 503 ? "catalog unavailable" : "internal error" });
        }));
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        var gateway = app.Services.GetRequiredService<WebSocketGateway>();
        app.Map("/", (HttpContext ctx) => gateway.HandleAsync(ctx)).RequireHost($"*:{settings.P2Port}");
        app.UseWhen(ctx => ctx.Connection.LocalPort == settings.HttpPort, web =>
        {
            web.UseDefaultFiles();
            web.UseStaticFiles();
        });
        app.MapReplicaEndpoints();
        app.MapNodeApi(settings);
        app.MapCatalogApi($"*:{settings.HttpPort}");
        if (settings.ClusterBootstrap) ClusterBootstrapping.MapSeedNodes(app, settings);
        IDisposable? hostStop = null;
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            ExitWatchdog.Arm(settings.ExitDeadline, "host stopping");
            hostStop = ExitWatchdog.Hold("the web host's stop (Kestrel draining HTTP and P2 connections, hosted services)");
        });
        app.Lifetime.ApplicationStopped.Register(() => hostStop?.Dispose());
        try
        {
            await app.RunAsync();
        }
        catch (Exception e)
        {
            Log.Fatal(e, "node failed");
            return 1;
        }
        finally
        {
            using (ExitWatchdog.Hold("closing the catalog database"))
                await database.DisposeAsync();
        }
        ExitWatchdog.Stage("web host stopped");
        return actorSystem is null ? 1 : ExitCodeOf(actorSystem);
    }

    /// <summary>
    /// The process exit code for the way the actor system was shut down: 3 when the cluster downed this node, else
    /// CoordinatedShutdown's code for the reason (0 for SIGTERM or a leave, 4 when joining failed). Decided from the
    /// reason and not read from <see cref="Environment.ExitCode"/>: Akka.Hosting sets that to -1 when the cluster
    /// downs or removes the node, racing the node's own continuation, which made a downed node exit with 255.
    /// </summary>
    private static int ExitCodeOf(ActorSystem system) => CoordinatedShutdown.Get(system).ShutdownReason switch
    {
        CoordinatedShutdown.ClusterDowningReason => DownedExitCode,
        null => 0,
        var reason => reason.ExitCode,
    };

    /// <summary>Opens the catalog, applying its migrations; waits up to a minute for a database that is still starting
    /// (the nodes of <c>docker compose up</c> and of <c>bin/cluster up</c> may come up before it).</summary>
    private static async Task<CatalogDatabase?> OpenDatabaseAsync(string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CatalogDatabase.OpenAsync(url);
            }
            catch (Exception e) when (e is not (Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException))
            {
                Log.Fatal("cannot open the catalog database: {Error}", e.Message);
                return null;
            }
            catch (Exception e)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Log.Fatal("cannot open the catalog database: {Error}", e.Message);
                    return null;
                }
                Log.Warning("catalog database not reachable yet (attempt {Attempt}: {Error}); retrying in 2 s", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }
}

/// <summary>
/// Ends the process if a shutdown takes longer than its deadline (docs/design.md: a downed node that never exits
/// cannot be restarted by its supervisor). The log line names what held the exit: every step of the shutdown that may
/// block registers a <see cref="Hold"/> while it runs, and the last CoordinatedShutdown phase reached is kept. The
/// exit is immediate (<c>_exit</c>): <see cref="Environment.Exit"/> would run the ProcessExit handlers, and Akka's
/// waits for CoordinatedShutdown to finish — the very thing that may be stuck.
/// </summary>
public static class ExitWatchdog
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, (string What, DateTime Since)> Holds = new();
    private static long _nextHold;
    private static int _armed;
    private static volatile string _stage = "running";

    /// <summary>Starts the deadline once; later calls do nothing. Forces exit code 1 unless the first call gave one.</summary>
    /// <param name="deadline">Time the orderly shutdown may take.</param>
    /// <param name="why">What started the shutdown, for the log line.</param>
    /// <param name="exitCode">The exit code if the deadline passes; null for 1 (a stop that hung is a failure).</param>
    public static void Arm(TimeSpan deadline, string why, int? exitCode = null)
    {
        if (Interlocked.Exchange(ref _armed, 1) == 1) return;
        var started = DateTime.UtcNow;
        var thread = new Thread(() =>
        {
            Thread.Sleep(deadline);
            var now = DateTime.UtcNow;
            var held = Holds.Values.OrderBy(h => h.Since)
                .Select(h => $"{h.What} (for {(now - h.Since).TotalSeconds:0} s)").ToList();
            var code = exitCode ?? 1;
            var line = $"exit deadline of {deadline.TotalSeconds:0} s passed after '{why}' " +
                       $"(at {started:HH:mm:ss}); held by: {(held.Count == 0 ? "nothing registered" : string.Join("; ", held))}; " +
                       $"last stage: {_stage}; {System.Diagnostics.Process.GetCurrentProcess().Threads.Count} threads; " +
                       $"forcing exit with code {code}";
            // What the log still buffers (NodeLog) is written first: the lines before a hung exit are the ones that
            // explain it. Then this line, straight to standard error. Each wait is bounded: a reader that does not read
            // must not hold the exit.
            RunBounded(Log.CloseAndFlush, "exit-watchdog-log");
            RunBounded(() => Console.Error.WriteLine(line), "exit-watchdog-line");
            HardExit(code);
        }) { IsBackground = true, Name = "exit-watchdog" };
        thread.Start();
    }

    /// <summary>Registers a step of the shutdown that may hold the exit, until the returned handle is disposed.</summary>
    /// <param name="what">The step, as the log line should name it.</param>
    /// <returns>Dispose it when the step is done.</returns>
    public static IDisposable Hold(string what)
    {
        var id = Interlocked.Increment(ref _nextHold);
        Holds[id] = (what, DateTime.UtcNow);
        return new Release(id);
    }

    /// <summary>Records the stage the shutdown reached.</summary>
    /// <param name="stage">E.g. <c>CoordinatedShutdown phase cluster-exiting</c>.</param>
    public static void Stage(string stage) => _stage = stage;

    /// <summary>Records each CoordinatedShutdown phase as it starts (a task in every phase), so a shutdown stuck in
    /// a phase is named by it.</summary>
    /// <param name="system">The actor system.</param>
    public static void TrackPhases(ActorSystem system)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var phases = system.Settings.Config.GetConfig("akka.coordinated-shutdown.phases").AsEnumerable().Select(p => p.Key.Split('.')[0]).Distinct();
        foreach (var phase in phases)
            shutdown.AddTask(phase, "exit-watchdog-stage", () =>
            {
                Stage("CoordinatedShutdown phase " + phase);
                return Task.FromResult(Akka.Done.Instance);
            });
    }

    /// <summary>Runs <paramref name="action"/> on a thread of its own and waits for it at most 2 s: not on the thread
    /// pool (nor through <see cref="NodeLog.CloseAsync"/>, whose bounded wait completes on it), which a hung exit may
    /// have starved.</summary>
    private static void RunBounded(Action action, string name)
    {
        var thread = new Thread(() => action()) { IsBackground = true, Name = name };
        thread.Start();
        thread.Join(TimeSpan.FromSeconds(2));
    }

    private static void HardExit(int code)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            try
            {
                Exit(code);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // fall through to the managed exit
            }
        }
        Environment.Exit(code);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void Exit(int code);

    private sealed class Release(long id) : IDisposable
    {
        public void Dispose() => Holds.TryRemove(id, out _);
    }
}
