using Akka.Configuration;

namespace ActorImages.Node.Config;

/// <summary>
/// Every <c>actorimages.*</c> setting of one node, read once from the merged HOCON (embedded
/// <c>reference.conf</c>, then the profile named by <c>ACTORIMAGES_CONFIG</c>). Durations are <see cref="TimeSpan"/>s,
/// sizes bytes. README "Configuration" lists each key with its environment variable.
/// </summary>
public sealed record NodeSettings
{
    /// <summary>Address every listener binds to and the cluster and legacy peers reach this node on.</summary>
    public required string Host { get; init; }
    /// <summary>The node's data directory (absolute).</summary>
    public required string DataDir { get; init; }
    /// <summary>The PostgreSQL catalog: a <c>postgresql://</c> URL or an Npgsql connection string.</summary>
    public required string DbUrl { get; init; }
    /// <summary>Largest accepted image, bytes (docs/protocols.md, P1).</summary>
    public required long MaxImageBytes { get; init; }
    /// <summary>Largest accepted image area from its header, pixels.</summary>
    public required long MaxImagePixels { get; init; }
    /// <summary>Nodes that hold a copy of each image.</summary>
    public required int ReplicationFactor { get; init; }
    /// <summary>Bearer token of the admin routes and the cluster token of the internal replica routes; empty refuses
    /// the admin routes and answers the internal routes for loopback callers only (README, "Limits and security").</summary>
    public required string AdminToken { get; init; }
    /// <summary>P1 TCP ingest port.</summary>
    public required int P1Port { get; init; }
    /// <summary>A P1 connection without a byte for this long is closed.</summary>
    public required TimeSpan P1IdleTimeout { get; init; }
    /// <summary>Least rate of a P1 frame once its header is in, bytes per second.</summary>
    public required long P1MinRate { get; init; }
    /// <summary>Most concurrent P1 connections.</summary>
    public required int P1MaxConnections { get; init; }
    /// <summary>P2 WebSocket port.</summary>
    public required int P2Port { get; init; }
    /// <summary>NEW_UPLOAD events replayed after AUTH.</summary>
    public required int P2HistorySize { get; init; }
    /// <summary>Largest P2 command frame, bytes.</summary>
    public required int P2MaxTextFrame { get; init; }
    /// <summary>Byte budget of a P2 LIST reply (docs/protocols.md, P2: the seed-001 client drops larger messages).</summary>
    public required int P2ListMaxBytes { get; init; }
    /// <summary>A P2 connection without a message for this long is closed.</summary>
    public required TimeSpan P2IdleTimeout { get; init; }
    /// <summary>Least rate of a P2 binary frame after a grace of <see cref="P2IdleTimeout"/>, bytes per second.</summary>
    public required long P2MinRate { get; init; }
    /// <summary>P3 UDP tracker port.</summary>
    public required int P3Port { get; init; }
    /// <summary>Replies per second to one source address.</summary>
    public required int P3RepliesPerSecond { get; init; }
    /// <summary>Most items in one REG or UPD.</summary>
    public required int P3MaxItemsPerRegistration { get; init; }
    /// <summary>Most registered identities per source IP.</summary>
    public required int P3MaxIdentitiesPerIp { get; init; }
    /// <summary>P4 peer GET port, the same on every node.</summary>
    public required int P4Port { get; init; }
    /// <summary>Time a P4 client has to send its whole request.</summary>
    public required TimeSpan P4RequestTimeout { get; init; }
    /// <summary>Most concurrent P4 connections.</summary>
    public required int P4MaxConnections { get; init; }
    /// <summary>HTTP API port.</summary>
    public required int HttpPort { get; init; }
    /// <summary>Most concurrent connections Kestrel serves on all its ports together (HTTP, P2, the replica channel),
    /// half of them at most WebSocket (P2) ones (<c>actorimages.http.max-connections</c>).</summary>
    public required int HttpMaxConnections { get; init; }
    /// <summary>Most connections this node opens to each other node for replica copies and fetches (the replica
    /// channel's client pool, <c>Transfer/ReplicaChannel.cs</c>); more requests wait for one. Not a key of its own: 64,
    /// lowered with the listeners' bounds under a low open-file limit (<see cref="DescriptorBudget"/>).</summary>
    public int ReplicaConnectionsPerPeer { get; init; } = 64;
    /// <summary>Port of the replica channel: HTTPS with the cluster certificate on both ends, the same on every node;
    /// used only when remoting is TLS (docs/design.md, "Moving bytes between nodes"; <c>actorimages.replica-port</c>).</summary>
    public required int ReplicaPort { get; init; }
    /// <summary>Page size of <c>GET /api/images</c> without <c>limit</c>.</summary>
    public required int DefaultPageSize { get; init; }
    /// <summary>Largest <c>limit</c> of <c>GET /api/images</c>.</summary>
    public required int MaxPageSize { get; init; }
    /// <summary>Time a gateway waits for the Registry or the Tracker.</summary>
    public required TimeSpan AskTimeout { get; init; }
    /// <summary>Most catalog entries in one commit transaction.</summary>
    public required int CatalogBatchSize { get; init; }
    /// <summary>Base time of one replica copy.</summary>
    public required TimeSpan ReplicationTimeout { get; init; }
    /// <summary>Least rate of a replica copy, bytes per second.</summary>
    public required long ReplicationMinThroughput { get; init; }
    /// <summary>Period of self-repair passes.</summary>
    public required TimeSpan RepairInterval { get; init; }
    /// <summary>Images a repair pass or a leave copies at the same time.</summary>
    public required int RepairParallelism { get; init; }
    /// <summary>Catalog entries a repair pass or a leave examines per query.</summary>
    public required int RepairPageSize { get; init; }
    /// <summary>How long a repair pass rests after each page, as a multiple of the page query's own time (≥ 0).</summary>
    public required double RepairScanRest { get; init; }
    /// <summary>Period of the background scrub; zero turns it off (and the orphan sweep with it).</summary>
    public required TimeSpan ScrubPace { get; init; }
    /// <summary>Age (time since the last write) after which a file of this node that the catalog does not list on
    /// it, or a temp file, is removed by the orphan sweep (<see cref="Repair.OrphanSweep"/>); twice the rest between
    /// two sweep passes. Far longer than any upload takes from its last byte to its catalog commit.</summary>
    public required TimeSpan OrphanGrace { get; init; }
    /// <summary>Join through Akka.Management's Cluster Bootstrap instead of seed nodes
    /// (<see cref="Cluster.ClusterBootstrapping"/>); then <c>akka.cluster.seed-nodes</c> must be empty.</summary>
    public required bool ClusterBootstrap { get; init; }
    /// <summary>How Cluster Bootstrap finds its contact points: <c>dns</c> (the A records of
    /// <see cref="DiscoveryService"/>) or <c>config</c> (the fixed list <see cref="DiscoveryEndpoints"/>).</summary>
    public required string DiscoveryMethod { get; init; }
    /// <summary>The service name Cluster Bootstrap looks up: a DNS name with method <c>dns</c> (e.g. the compose
    /// service <c>node</c>), only a label with method <c>config</c>.</summary>
    public required string DiscoveryService { get; init; }
    /// <summary>The contact points of discovery method <c>config</c>: <c>host</c> or <c>host:port</c>, the port
    /// defaulting to <see cref="ManagementPort"/>; every node of the cluster, this one included.</summary>
    public required IReadOnlyList<string> DiscoveryEndpoints { get; init; }
    /// <summary>Contact points that must answer before the one with the lowest address forms a new cluster
    /// (Akka's <c>required-contact-point-nr</c>); a cluster that already exists is joined whatever the count.</summary>
    public required int BootstrapRequiredContacts { get; init; }
    /// <summary>TCP port of Cluster Bootstrap's contact point (<c>GET /bootstrap/seed-nodes</c>), served by this
    /// node's Kestrel on <see cref="Host"/>; every node is probed on it.</summary>
    public required int ManagementPort { get; init; }
    /// <summary>Every exit path ends the process within this deadline.</summary>
    public required TimeSpan ExitDeadline { get; init; }
    /// <summary>Log events the buffer before standard output holds; more are dropped and counted, never waited for
    /// (<see cref="NodeLog"/>; README "Limits and security"). At least 1.</summary>
    public required int LogBuffer { get; init; }
    /// <summary>How often a node reads the newest catalog entries and the tracker's version to serve what pub-sub
    /// did not deliver (the "within one second" of docs/design.md); must be under one second.</summary>
    public required TimeSpan CatchUpInterval { get; init; }

    /// <summary>Time one replica copy of <paramref name="bytes"/> may take (replication-timeout plus size/rate).</summary>
    /// <param name="bytes">The image size in bytes.</param>
    /// <returns>The deadline of one copy.</returns>
    public TimeSpan ReplicationDeadline(long bytes) =>
        ReplicationTimeout + TimeSpan.FromSeconds((double)bytes / Math.Max(1, ReplicationMinThroughput));

    /// <summary>Reads the <c>actorimages</c> section of <paramref name="config"/>.</summary>
    /// <param name="config">The merged node configuration.</param>
    /// <returns>The checked settings.</returns>
    /// <exception cref="ConfigurationException">A value is missing or out of range.</exception>
    public static NodeSettings Create(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("actorimages") ?? throw new ConfigurationException("missing actorimages section");
        var settings = new NodeSettings
        {
            Host = c.GetString("host"),
            DataDir = Path.GetFullPath(c.GetString("data-dir")),
            DbUrl = c.GetString("db-url"),
            MaxImageBytes = Bytes(c, "max-image-bytes"),
            MaxImagePixels = c.GetLong("max-image-pixels"),
            ReplicationFactor = c.GetInt("replication-factor"),
            AdminToken = c.GetString("admin-token", "") ?? "",
            P1Port = c.GetInt("p1.port"),
            P1IdleTimeout = c.GetTimeSpan("p1.idle-timeout"),
            P1MinRate = Bytes(c, "p1.min-rate"),
            P1MaxConnections = c.GetInt("p1.max-connections"),
            P2Port = c.GetInt("p2.port"),
            P2HistorySize = c.GetInt("p2.history-size"),
            P2MaxTextFrame = (int)Bytes(c, "p2.max-text-frame"),
            P2ListMaxBytes = (int)Bytes(c, "p2.list-max-bytes"),
            P2IdleTimeout = c.GetTimeSpan("p2.idle-timeout"),
            P2MinRate = Bytes(c, "p2.min-rate"),
            P3Port = c.GetInt("p3.port"),
            P3RepliesPerSecond = c.GetInt("p3.replies-per-second"),
            P3MaxItemsPerRegistration = c.GetInt("p3.max-items-per-registration"),
            P3MaxIdentitiesPerIp = c.GetInt("p3.max-identities-per-ip"),
            P4Port = c.GetInt("p4.port"),
            P4RequestTimeout = c.GetTimeSpan("p4.request-timeout"),
            P4MaxConnections = c.GetInt("p4.max-connections"),
            HttpPort = c.GetInt("http.port"),
            HttpMaxConnections = c.GetInt("http.max-connections"),
            ReplicaPort = c.GetInt("replica-port"),
            DefaultPageSize = c.GetInt("http.default-page-size"),
            MaxPageSize = c.GetInt("http.max-page-size"),
            AskTimeout = c.GetTimeSpan("ask-timeout"),
            CatalogBatchSize = c.GetInt("catalog-batch-size"),
            ReplicationTimeout = c.GetTimeSpan("replication-timeout"),
            ReplicationMinThroughput = Bytes(c, "replication-min-throughput"),
            RepairInterval = c.GetTimeSpan("repair-interval"),
            RepairParallelism = c.GetInt("repair-parallelism"),
            RepairPageSize = c.GetInt("repair-page-size"),
            RepairScanRest = c.GetDouble("repair-scan-rest"),
            ScrubPace = c.GetTimeSpan("scrub-pace"),
            OrphanGrace = c.GetTimeSpan("orphan-grace"),
            ClusterBootstrap = c.GetBoolean("cluster-bootstrap"),
            DiscoveryMethod = c.GetString("discovery-method"),
            DiscoveryService = c.GetString("discovery-service"),
            DiscoveryEndpoints = [.. c.GetStringList("discovery-endpoints", [])],
            BootstrapRequiredContacts = c.GetInt("bootstrap-required-contacts"),
            ManagementPort = c.GetInt("management-port"),
            ExitDeadline = c.GetTimeSpan("exit-deadline"),
            LogBuffer = c.GetInt("log-buffer"),
            CatchUpInterval = c.GetTimeSpan("catch-up-interval"),
        };
        if (settings.MaxImageBytes is <= 0 or > uint.MaxValue)
            throw new ConfigurationException("actorimages.max-image-bytes must be 1..4294967295 (P1 lengths are 4-byte unsigned)");
        if (settings.P1MaxConnections < 1 || settings.P4MaxConnections < 1 || settings.HttpMaxConnections < 2)
            throw new ConfigurationException("actorimages.p1.max-connections and p4.max-connections must be at least 1, " +
                                             "http.max-connections at least 2");
        if (settings.LogBuffer < 1)
            throw new ConfigurationException("actorimages.log-buffer must be at least 1");
        if (settings.ReplicationFactor < 1)
            throw new ConfigurationException("actorimages.replication-factor must be at least 1");
        if (settings.RepairParallelism < 1 || settings.RepairPageSize < 1)
            throw new ConfigurationException("actorimages.repair-parallelism and repair-page-size must be at least 1");
        if (settings.RepairScanRest is < 0 or > 100 || double.IsNaN(settings.RepairScanRest))
            throw new ConfigurationException("actorimages.repair-scan-rest must be 0..100");
        if (settings.CatchUpInterval <= TimeSpan.Zero || settings.CatchUpInterval >= TimeSpan.FromSeconds(1))
            throw new ConfigurationException("actorimages.catch-up-interval must be more than 0 and less than 1s");
        if (settings.OrphanGrace <= TimeSpan.Zero)
            throw new ConfigurationException("actorimages.orphan-grace must be more than 0");
        if (settings.DiscoveryMethod is not ("dns" or "config"))
            throw new ConfigurationException("actorimages.discovery-method must be dns or config");
        if (settings.ClusterBootstrap && settings.DiscoveryMethod == "config" && settings.DiscoveryEndpoints.Count == 0)
            throw new ConfigurationException("actorimages.discovery-method = config needs the contact points in " +
                                             "actorimages.discovery-endpoints (ACTORIMAGES_DISCOVERY_ENDPOINTS)");
        if (settings.ClusterBootstrap && config.GetStringList("akka.cluster.seed-nodes", []).Count > 0)
            throw new ConfigurationException("actorimages.cluster-bootstrap is on and seed nodes are set (akka.cluster.seed-nodes, " +
                                             "ACTORIMAGES_SEED_NODES): a node joins through one or the other; remove one of the two");
        if (settings.BootstrapRequiredContacts < 1)
            throw new ConfigurationException("actorimages.bootstrap-required-contacts must be at least 1");
        if (settings.MaxPageSize < settings.DefaultPageSize)
            throw new ConfigurationException("actorimages.http.max-page-size must be at least default-page-size");
        return settings;
    }

    private static long Bytes(Akka.Configuration.Config c, string key) =>
        c.GetByteSize(key) ?? throw new ConfigurationException($"actorimages.{key} is not a size");
}
