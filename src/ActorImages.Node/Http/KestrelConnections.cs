using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Serilog;
using Serilog.Events;

namespace ActorImages.Node.Http;

/// <summary>
/// Kestrel's connections on all its ports (HTTP, P2, the replica channel, the management port), counted and logged as
/// P1's and P4's are (README, "Limits and security"): open, upgraded (P2 WebSockets) and refused connections on
/// <c>/metrics</c> (<c>actorimages_connections_open{listener="http"|"websocket"}</c>,
/// <c>actorimages_connections_refused_total{listener="http"}</c>), and a run of connections refused at Kestrel's bound
/// logged once, with their count when a connection is served again. Kestrel itself logs a warning per refused
/// connection (its event <c>ConnectionRejected</c>): a flood of 80 connections past the bound logged 80 lines
/// (DescriptorLimitTest), which <see cref="IsPerConnectionRejection"/> leaves out of the node's log.
/// </summary>
public static class KestrelConnections
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    private static long _open, _upgraded, _refused, _refusedRun;
    private static int _max;
    private static MeterListener? _listener;

    /// <summary>Connections open now on all of Kestrel's ports (its instrument <c>kestrel.active_connections</c>; a
    /// refused connection counts for the moment before it is closed).</summary>
    public static long Open => Interlocked.Read(ref _open);

    /// <summary>Of <see cref="Open"/>, those upgraded to WebSockets (<c>kestrel.upgraded_connections</c>).</summary>
    public static long Upgraded => Interlocked.Read(ref _upgraded);

    /// <summary>Connections refused at Kestrel's bound since start (<c>kestrel.rejected_connections</c>).</summary>
    public static long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Starts listening to Kestrel's connection instruments (recorded once per connection, not per request) and
    /// exports them; call once, before Kestrel starts, and call <see cref="Watch"/> on its options.
    /// </summary>
    /// <param name="maxConnections">Kestrel's bound (<c>actorimages.http.max-connections</c> as in effect), named in
    /// the log line of a refusal.</param>
    public static void Start(int maxConnections)
    {
        _max = maxConnections;
        if (_listener is not null) return;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == KestrelMeter
                    && instrument.Name is "kestrel.active_connections" or "kestrel.upgraded_connections" or "kestrel.rejected_connections")
                    listener.EnableMeasurementEvents(instrument);
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            switch (instrument.Name)
            {
                case "kestrel.active_connections":
                    Interlocked.Add(ref _open, value);
                    break;
                case "kestrel.upgraded_connections":
                    Interlocked.Add(ref _upgraded, value);
                    break;
                default:
                    Interlocked.Add(ref _refused, value);
                    if (Interlocked.Add(ref _refusedRun, value) == value)
                        Log.Warning("HTTP: refused a connection on port {Port}: {Max} connections open on Kestrel's ports; " +
                                    "refusing more until one closes", Port(tags), _max);
                    break;
            }
        });
        _listener.Start();
        NodeMetrics.Connections("http", () => Open, () => Refused);
        NodeMetrics.Connections("websocket", () => Upgraded);
    }

    /// <summary>Makes every endpoint of <paramref name="kestrel"/> configured after this call report the end of a run
    /// of refusals when it serves a connection again. Call before its <c>Listen</c> calls.</summary>
    /// <param name="kestrel">Kestrel's options.</param>
    public static void Watch(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        // Connection middleware runs only for the connections Kestrel admitted (its bound is checked before): a served
        // one ends a run of refusals.
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
        {
            if (Interlocked.Read(ref _refusedRun) > 0 && Interlocked.Exchange(ref _refusedRun, 0) is var refused and > 0)
                Log.Warning("HTTP: accepting again after {Refused} refused connections", refused);
            return next(connection);
        }));
    }

    /// <summary>Whether <paramref name="e"/> is Kestrel's own warning about one refused connection, which
    /// <see cref="Start"/>'s once-per-run line replaces (a Serilog filter of the node's log).</summary>
    /// <param name="e">A log event.</param>
    /// <returns>True to leave it out.</returns>
    public static bool IsPerConnectionRejection(LogEvent e) =>
        e.Level == LogEventLevel.Warning
        && e.Properties.TryGetValue("EventId", out var id) && id is StructureValue structure
        && structure.Properties.Any(p => p.Name == "Name" && p.Value is ScalarValue { Value: "ConnectionRejected" })
        && e.Properties.TryGetValue("SourceContext", out var source)
        && source is ScalarValue { Value: string context } && context.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal);

    private static object? Port(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
            if (tag.Key == "server.port") return tag.Value;
        return "?";
    }
}
