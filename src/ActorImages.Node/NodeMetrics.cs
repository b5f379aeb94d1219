using Prometheus;

namespace ActorImages.Node;

/// <summary>
/// The node's Prometheus metrics, served at <c>GET /metrics</c> (README "HTTP API"): names end in <c>_total</c> for
/// counters and use base units (<c>_seconds</c>, <c>_bytes</c>).
/// </summary>
public sealed class NodeMetrics
{
    // Declared before the histogram that uses it: static fields are initialised in order.
    /// <summary>The upper bounds of <c>actorimages_read_seconds</c>'s buckets, seconds: one at the 20 ms target of a
    /// read at a million entries (docs/design.md, "The catalog"), so the share answered within it is exact.</summary>
    public static readonly double[] ReadBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

    private static readonly Counter Uploads = Metrics.CreateCounter("actorimages_uploads_total",
        "Uploads by protocol and outcome (stored, invalid, toolarge, truncated, unavailable, timeout, refused).",
        "protocol", "outcome");
    private static readonly Histogram UploadLatency = Metrics.CreateHistogram("actorimages_upload_latency_seconds",
        "Time from an upload's first byte to its acknowledgement, seconds.",
        new HistogramConfiguration { LabelNames = ["protocol"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
    private static readonly Histogram IngestPhases = Steps("actorimages_ingest_phase_seconds",
        "Time of each step of a stored upload, seconds: receive (first byte to the temp file fsynced and its header " +
        "probed), reserve (the stored name from the catalog), replicate (remote pushes and the local link, side by side), " +
        "commit (the catalog entry's batch transaction).", "phase");
    private static readonly Histogram CatalogBatches = Steps("actorimages_catalog_batch_seconds",
        "Time of one catalog batch transaction of the Registry (its group commit: the statements and the WAL flush of " +
        "COMMIT), seconds; _count is the number of batches. An entry's commit step is the wait for the batch in flight " +
        "plus its own batch's time.");
    private static readonly Counter CatalogBatchEntries = Metrics.CreateCounter("actorimages_catalog_batch_entries_total",
        "Entries committed by the Registry's batch transactions; divided by actorimages_catalog_batch_seconds_count, " +
        "the mean batch size.");
    private static readonly Histogram ReadLatency = Metrics.CreateHistogram("actorimages_read_seconds",
        "Time the node takes to answer a read, seconds, from the parsed request to the reply's last byte handed to the " +
        "socket: P2 LIST, DOWNLOAD and VIEW; P3 LST and LST <offset>; HTTP GET of a page and of one entry " +
        "(docs/design.md, \"The catalog\").",
        new HistogramConfiguration { LabelNames = ["request"], Buckets = ReadBuckets });
    private static readonly Histogram TrackerWrites = Steps("actorimages_tracker_write_seconds",
        "Time the node takes to answer a P3 REG, UPD or END, seconds, from the parsed datagram to the reply handed to " +
        "the socket: the ask to the tracker singleton (on this node or another), the wait for a batch slot, its own " +
        "batch transaction and the way back (docs/design.md, \"Actors and services on every node\").", "command");
    private static readonly Histogram TrackerBatches = Steps("actorimages_tracker_batch_seconds",
        "Time of one batch transaction of the tracker singleton (its group commit: the statements and the WAL flush; with " +
        "two batches in flight, also the wait for the one ahead to commit), seconds; recorded on the node that runs the " +
        "singleton, _count is the number of batches.");
    private static readonly Counter TrackerBatchWrites = Metrics.CreateCounter("actorimages_tracker_batch_writes_total",
        "REG, UPD and END commands committed by the tracker singleton's batch transactions; divided by " +
        "actorimages_tracker_batch_seconds_count, the mean batch size.");
    private static readonly Counter TrackerRequests = Metrics.CreateCounter("actorimages_tracker_requests_total",
        "P3 datagrams answered, by command (REG, UPD, LST, END, invalid, dropped).", "command");
    private static readonly Histogram Renditions = Steps("actorimages_rendition_seconds",
        "Time to make one thumbnail or preview on request, seconds, by kind (thumbnail, preview) and outcome (made; " +
        "undecodable, remembered and answered 404; unavailable, no holder answered): the fetch of a holder's bytes when " +
        "this node has none, the decode (of HEIC, HEIF and AVIF by heif-thumbnailer in a child process), the scaling " +
        "and the JPEG (docs/design.md, \"Thumbnails and previews\").", "kind", "outcome");
    private static readonly Counter Copies = Metrics.CreateCounter("actorimages_replica_copies_total",
        "Replica copies by reason (repair, leave, scrub) and outcome.", "reason", "outcome");
    private static readonly Counter Errors = Metrics.CreateCounter("actorimages_errors_total",
        "Errors by kind.", "kind");
    private static readonly Gauge ConnectionsMax = Metrics.CreateGauge("actorimages_connections_max",
        "Most connections a listener serves at a time, as in effect after the bounds were fitted to the open-file " +
        "limit at start (p1, p4; http: Kestrel's ports together; websocket: of them, upgraded to P2 WebSockets).",
        "listener");
    private static readonly Gauge ConnectionsOpen = Metrics.CreateGauge("actorimages_connections_open",
        "Connections a listener is serving now (p1, p4; http: Kestrel's on all its ports; websocket: of them, upgraded).",
        "listener");
    private static readonly Counter ConnectionsRefused = Metrics.CreateCounter("actorimages_connections_refused_total",
        "Connections closed at once because the listener was at its actorimages_connections_max (p1, p4, http).",
        "listener");
    private static readonly Gauge OpenFilesLimit = Metrics.CreateGauge("actorimages_open_files_limit",
        "The process's soft limit of open file descriptors at start, which the connection bounds were fitted to; +Inf " +
        "when unlimited or unknown.");

    /// <summary>
    /// Limits what prometheus-net adds to <c>/metrics</c> on its own to the process metrics (<c>process_*</c>,
    /// <c>dotnet_*</c>) and the runtime's meter (<c>system_runtime_*</c>: GC, thread pool, JIT, lock contention). Its
    /// other defaults cost CPU on every request: the event-counter adapter enables the Kestrel, hosting, HTTP-client
    /// and socket event sources at Informational level (.NET cannot enable only their counters), so every request and
    /// connection writes events; the meter adapter records each measurement of ASP.NET Core's, HttpClient's and
    /// Npgsql's instruments (per request, per command) under a lock. Together with HttpClient's logging handlers they
    /// were about 5 % of the nodes' CPU in the three-node P1 window (docs/benchmarks.md); the actorimages_* metrics
    /// measure every protocol's requests where the node's own targets are set. Call before anything collects
    /// <see cref="Metrics.DefaultRegistry"/>: prometheus-net applies these settings at its first collection.
    /// </summary>
    public static void LimitDefaultMetrics()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true });
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = i => i.Meter.Name == "System.Runtime");
    }

    /// <summary>
    /// Publishes the connection bounds in effect (<c>actorimages_connections_max</c>) and the open-file limit they were
    /// fitted to (<c>actorimages_open_files_limit</c>; src/ActorImages.Node/Config/DescriptorBudget.cs), so that an
    /// operator sees them without the start's log line.
    /// </summary>
    /// <param name="p1">P1's bound, connections.</param>
    /// <param name="p4">P4's bound, connections.</param>
    /// <param name="http">Kestrel's bound, connections; half of it WebSockets.</param>
    /// <param name="openFileLimit">The soft limit of open files; <see cref="long.MaxValue"/> for none.</param>
    public static void ConnectionBounds(int p1, int p4, int http, long openFileLimit)
    {
        ConnectionsMax.WithLabels("p1").Set(p1);
        ConnectionsMax.WithLabels("p4").Set(p4);
        ConnectionsMax.WithLabels("http").Set(http);
        ConnectionsMax.WithLabels("websocket").Set(http / 2);
        OpenFilesLimit.Set(openFileLimit == long.MaxValue ? double.PositiveInfinity : openFileLimit);
    }

    /// <summary>Exports a listener's open and refused connections (<c>actorimages_connections_open</c>,
    /// <c>actorimages_connections_refused_total</c>), read at each scrape of <c>/metrics</c>.</summary>
    /// <param name="listener">p1, p4, http (Kestrel's ports together) or websocket (of them, upgraded).</param>
    /// <param name="open">Connections open now.</param>
    /// <param name="refused">Connections refused since start, or null when the listener has no count of its own.</param>
    public static void Connections(string listener, Func<long> open, Func<long>? refused = null)
    {
        var openGauge = ConnectionsOpen.WithLabels(listener);
        var refusedCounter = refused is null ? null : ConnectionsRefused.WithLabels(listener);
        openGauge.Set(0);
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            openGauge.Set(open());
            if (refused is not null) refusedCounter!.IncTo(refused());
        });
    }

    /// <summary>A histogram of the time of a step inside the node, seconds: buckets from 0.1 ms doubling up to 52 s.</summary>
    private static Histogram Steps(string name, string help, params string[] labels) =>
        Metrics.CreateHistogram(name, help,
            new HistogramConfiguration { LabelNames = labels, Buckets = Histogram.ExponentialBuckets(0.0001, 2, 20) });

    /// <summary>Counts an upload that was not stored.</summary>
    /// <param name="protocol">p1, p2 or http.</param>
    /// <param name="outcome">Why.</param>
    public void Upload(string protocol, string outcome) => Uploads.WithLabels(protocol, outcome).Inc();

    /// <summary>Counts a stored upload and its latency.</summary>
    /// <param name="protocol">p1, p2 or http.</param>
    /// <param name="latency">Time from first byte to acknowledgement.</param>
    public void Stored(string protocol, TimeSpan latency)
    {
        Uploads.WithLabels(protocol, "stored").Inc();
        UploadLatency.WithLabels(protocol).Observe(latency.TotalSeconds);
    }

    /// <summary>Records how long one step of a stored upload took (docs/design.md, "The path of one image").</summary>
    /// <param name="phase">receive, reserve, replicate or commit.</param>
    /// <param name="elapsed">The step's time.</param>
    public void IngestPhase(string phase, TimeSpan elapsed) => IngestPhases.WithLabels(phase).Observe(elapsed.TotalSeconds);

    /// <summary>Records one committed catalog batch of the Registry (docs/design.md, "Registry").</summary>
    /// <param name="entries">Entries in the batch.</param>
    /// <param name="elapsed">From the transaction's start to its commit.</param>
    public void CatalogBatch(int entries, TimeSpan elapsed)
    {
        CatalogBatches.Observe(elapsed.TotalSeconds);
        CatalogBatchEntries.Inc(entries);
    }

    /// <summary>Records how long a read took (<c>actorimages_read_seconds</c>).</summary>
    /// <param name="request">What was read: <c>P2 LIST</c>, <c>P2 DOWNLOAD</c>, <c>P2 VIEW</c>, <c>P3 LST</c>,
    /// <c>P3 LST offset</c>, or an HTTP route such as <c>GET /api/images/{md5}</c>.</param>
    /// <param name="startTimestamp">A <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> taken when the request
    /// was parsed.</param>
    public void Read(string request, long startTimestamp) =>
        ReadLatency.WithLabels(request).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    /// <summary>Counts a P3 request.</summary>
    /// <param name="command">REG, UPD, LST, END, invalid or dropped.</param>
    public void Tracker(string command) => TrackerRequests.WithLabels(command).Inc();

    /// <summary>Records how long a P3 write took in the node (<c>actorimages_tracker_write_seconds</c>).</summary>
    /// <param name="command">REG, UPD or END.</param>
    /// <param name="startTimestamp">A <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> taken when the datagram
    /// was received.</param>
    public void TrackerWrite(string command, long startTimestamp) =>
        TrackerWrites.WithLabels(command)
            .Observe(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    /// <summary>Records one committed batch of the tracker singleton (docs/design.md, "Actors and services on every
    /// node").</summary>
    /// <param name="writes">Commands in the batch.</param>
    /// <param name="elapsed">From the batch's start to its commit.</param>
    public void TrackerBatch(int writes, TimeSpan elapsed)
    {
        TrackerBatches.Observe(elapsed.TotalSeconds);
        TrackerBatchWrites.Inc(writes);
    }

    /// <summary>Records one thumbnail or preview made, or given up (<c>actorimages_rendition_seconds</c>).</summary>
    /// <param name="kind">thumbnail or preview.</param>
    /// <param name="outcome">made, undecodable or unavailable.</param>
    /// <param name="elapsed">From the start of the making (after the wait for the worker) to its end.</param>
    public void Rendition(string kind, string outcome, TimeSpan elapsed) =>
        Renditions.WithLabels(kind, outcome).Observe(elapsed.TotalSeconds);

    /// <summary>Counts a replica copy.</summary>
    /// <param name="reason">repair, leave or scrub.</param>
    /// <param name="outcome">ok or failed.</param>
    public void Copy(string reason, string outcome) => Copies.WithLabels(reason, outcome).Inc();

    /// <summary>Counts an error.</summary>
    /// <param name="kind">A short kind, e.g. <c>catalog</c>.</param>
    public void Error(string kind) => Errors.WithLabels(kind).Inc();
}
