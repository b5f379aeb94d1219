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
    /// <summary>Exit code of a node that the Split Brain Resolver downed (docs/design.md, "Membership and failure").</summary>
    public const int DownedExitCode = 3;

    /// <summary>Runs the node until it is stopped (SIGTERM, SIGINT) or leaves the cluster.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="config">The whole configuration, Akka's included.</param>
    /// <param name="args">Command-line arguments, passed to ASP.NET Core.</param>
    /// <returns>The process exit code: 0 after a requested stop, 3 when downed, 1 on a fatal error.</returns>
    public static async Task<int> RunAsync(NodeSettings settings, Akka.Configuration.Config config, string[] args)
    {
        var database = await OpenDatabaseAsync(settings.DbUrl);
        if (database is null) return 1;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Host.UseSerilog();
        builder.WebHost.ConfigureKestrel(k =>
        {
            var ip = System.Net.IPAddress.Parse(settings.Host);
            k.Listen(ip, settings.HttpPort);
            k.Listen(ip, settings.P2Port);
            k.Limits.MaxRequestBodySize = settings.MaxImageBytes;
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(120);
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(1024, TimeSpan.FromSeconds(10));
            k.Limits.MinResponseDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(1024, TimeSpan.FromSeconds(10));
            k.Limits.MaxConcurrentConnections = 4096;
            k.Limits.MaxConcurrentUpgradedConnections = 2048;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ExitDeadline);

        var selfAddress = $"akka.tcp://ActorImages@{settings.Host}:{config.GetInt("akka.remote.dot-netty.tcp.port")}";
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(database);
        services.AddSingleton(database.Catalog);
        services.AddSingleton(database.Tracker);
        services.AddSingleton(new BlobStore(settings.DataDir, settings.MaxImageBytes, settings.MaxImagePixels));
        services.AddSingleton(new Membership(selfAddress));
        services.AddSingleton<ImageFeed>();
        services.AddSingleton(new LstView(settings.P4Port));
        services.AddSingleton<NodeMetrics>();
        services.AddHttpClient<ReplicaTransfer>().ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64,
        });
        services.AddSingleton<Ingestion>();
        services.AddSingleton<ImageReader>();
        services.AddSingleton<WebSocketGateway>();
        services.AddSingleton(new UploadList(settings.P2ListMaxBytes));
        services.AddHostedService<UploadListLoader>();
        services.AddSingleton<Thumbnails>();
        services.AddSingleton<StopAnnouncement>();
        services.AddSingleton<ReplicaRepair>();
        services.AddSingleton<Scrubber>();
        services.AddSingleton<TcpIngestGateway>().AddHostedService(sp => sp.GetRequiredService<TcpIngestGateway>());
        services.AddSingleton<PeerGetGateway>().AddHostedService(sp => sp.GetRequiredService<PeerGetGateway>());
        services.AddSingleton<UdpTrackerGateway>().AddHostedService(sp => sp.GetRequiredService<UdpTrackerGateway>());
        services.AddAkka("ActorImages", (b, sp) =>
        {
            b.AddHocon(config.WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig()), HoconAddMode.Prepend);
            b.WithRemoting(settings.Host, config.GetInt("akka.remote.dot-netty.tcp.port"));
            b.WithClustering(new ClusterOptions { Roles = ["images"] });
            b.WithDistributedPubSub("images");
            b.WithSingleton<TrackerActor>("tracker",
                TrackerActor.Props(sp.GetRequiredService<TrackerStore>(), settings.P3MaxIdentitiesPerIp),
                new ClusterSingletonOptions { Role = "images" }, createProxyToo: true);
            b.WithActors((system, registry) =>
            {
                var feed = sp.GetRequiredService<ImageFeed>();
                var membership = sp.GetRequiredService<Membership>();
                system.ActorOf(MembershipActor.Props(membership), "membership");
                if (settings.ClusterBootstrap)
                    system.ActorOf(DnsBootstrapActor.Props(settings, sp.GetRequiredService<IHttpClientFactory>().CreateClient()), "bootstrap");
                registry.Register<RegistryActor>(system.ActorOf(
                    RegistryActor.Props(sp.GetRequiredService<CatalogStore>(), feed, settings.CatalogBatchSize), "registry"));
                system.ActorOf(ImageTopicSubscriber.Props(feed), "image-topic");
                system.ActorOf(StopAnnouncementSubscriber.Props(sp.GetRequiredService<StopAnnouncement>()), "stop-topic");
                var stop = sp.GetRequiredService<StopAnnouncement>();
                var repair = system.ActorOf(RepairActor.Props(sp.GetRequiredService<ReplicaRepair>(), membership, stop, settings), "repair");
                GracefulLeave.Register(system, repair, stop);
                if (settings.ScrubPace > TimeSpan.Zero)
                    system.ActorOf(ScrubActor.Props(sp.GetRequiredService<Scrubber>(), sp.GetRequiredService<CatalogStore>(), membership,
                        settings.ScrubPace), "scrub");
                system.ActorOf(TrackerViewActor.Props(sp.GetRequiredService<LstView>(), sp.GetRequiredService<TrackerStore>(),
                    sp.GetRequiredService<CatalogStore>(), feed, membership), "tracker-view");
                system.WhenTerminated.ContinueWith(_ =>
                {
                    if (CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason)
                        Environment.ExitCode = DownedExitCode;
                    ExitWatchdog.Arm(settings.ExitDeadline, "actor system terminated");
                    sp.GetRequiredService<IHostApplicationLifetime>().StopApplication();
                });
            });
        });

        var app = builder.Build();
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
        app.Lifetime.ApplicationStopping.Register(() => ExitWatchdog.Arm(settings.ExitDeadline, "host stopping"));
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
            await database.DisposeAsync();
        }
        return Environment.ExitCode;
    }

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

/// <summary>Ends the process if a shutdown takes longer than its deadline, naming what was running (docs/design.md:
/// a downed node that never exits cannot be restarted by its supervisor).</summary>
public static class ExitWatchdog
{
    private static int _armed;

    /// <summary>Starts the deadline once; later calls do nothing.</summary>
    /// <param name="deadline">Time the orderly shutdown may take.</param>
    /// <param name="why">What started the shutdown, for the log line.</param>
    public static void Arm(TimeSpan deadline, string why)
    {
        if (Interlocked.Exchange(ref _armed, 1) == 1) return;
        var thread = new Thread(() =>
        {
            Thread.Sleep(deadline);
            Console.Error.WriteLine($"exit deadline of {deadline.TotalSeconds:0} s passed after '{why}'; forcing exit " +
                                    $"(threads: {System.Diagnostics.Process.GetCurrentProcess().Threads.Count})");
            Environment.Exit(Environment.ExitCode == 0 ? 1 : Environment.ExitCode);
        }) { IsBackground = true, Name = "exit-watchdog" };
        thread.Start();
    }
}
