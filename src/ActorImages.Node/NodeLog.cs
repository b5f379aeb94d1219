using Prometheus;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Sinks.Async;

namespace ActorImages.Node;

/// <summary>
/// The node's log: Serilog lines on standard output, written by one background thread from a bounded buffer of
/// <c>actorimages.log-buffer</c> events (README "Limits and security"), so that no thread of the node — an upload's,
/// an actor's, the cluster's heartbeats — ever waits for standard output. Without it, a reader that stops reading (a
/// stalled pipe, a container log driver in blocking mode) stopped every upload once the 64 KiB pipe was full
/// (<c>StalledLogTest</c>). When the buffer is full, newer events are dropped (Serilog.Sinks.Async), counted in
/// <c>actorimages_log_events_dropped_total</c>, and named by a warning as soon as the buffer has room again.
/// </summary>
public sealed class NodeLog : IAsyncLogEventSinkMonitor
{
    /// <summary>The line of every event: time (ms), level, source, message, exception.</summary>
    public const string OutputTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} [{SourceContext}] {Message:lj}{NewLine}{Exception}";

    /// <summary>The longest the exit waits for the buffered lines to be written (<see cref="CloseAsync"/>).</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often the dropped count is checked for the warning.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(5);

    private static readonly Counter Dropped = Metrics.CreateCounter("actorimages_log_events_dropped_total",
        "Log events dropped because standard output was not read as fast as the node wrote them and the buffer of " +
        "actorimages.log-buffer events was full.");

    private readonly object _gate = new();
    private IAsyncLogEventSinkInspector? _inspector;
    private Timer? _timer;
    private long _reported;
    private DateTimeOffset _since = DateTimeOffset.Now;

    private NodeLog()
    {
    }

    /// <summary>Sets <see cref="Log.Logger"/>: INFO and above (ASP.NET Core and HttpClient from WARN) to standard
    /// output through the buffer, and starts the dropped-events report.</summary>
    /// <param name="bufferEvents">Events the buffer holds (<c>actorimages.log-buffer</c>), at least 1.</param>
    /// <returns>The log; <see cref="CloseAsync"/> it at exit.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferEvents"/> is below 1.</exception>
    public static NodeLog Start(int bufferEvents)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferEvents, 1);
        var log = new NodeLog();
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", Serilog.Events.LogEventLevel.Warning)
            .Filter.ByExcluding(Http.KestrelConnections.IsPerConnectionRejection)
            .Enrich.With<AkkaSourceEnricher>()
            .WriteTo.Async(a => a.Console(outputTemplate: OutputTemplate), bufferEvents, blockWhenFull: false, monitor: log)
            .CreateLogger();
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => Dropped.IncTo(log.DroppedEvents));
        log._timer = new Timer(_ => log.Report(), null, ReportInterval, ReportInterval);
        return log;
    }

    /// <summary>Events dropped since the start because the buffer was full.</summary>
    public long DroppedEvents
    {
        get
        {
            lock (_gate) return _inspector?.DroppedMessagesCount ?? 0;
        }
    }

    /// <summary>Writes what is buffered and closes the log, waiting at most <paramref name="timeout"/>: when standard
    /// output is not read, the last lines are lost rather than the exit held (the exit watchdog would end the process
    /// with code 1 otherwise).</summary>
    /// <param name="timeout">The longest wait for the buffer to be written.</param>
    /// <returns>True when everything was written in time.</returns>
    public async Task<bool> CloseAsync(TimeSpan timeout)
    {
        if (_timer is not null) await _timer.DisposeAsync();
        Report();
        // Closing the buffered sink joins its writer thread, synchronously: off this thread, so the wait is bounded.
        var close = Task.Run(Log.CloseAndFlush);
        try
        {
            await close.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    void IAsyncLogEventSinkMonitor.StartMonitoring(IAsyncLogEventSinkInspector inspector)
    {
        lock (_gate) _inspector = inspector;
    }

    /// <inheritdoc />
    void IAsyncLogEventSinkMonitor.StopMonitoring(IAsyncLogEventSinkInspector inspector)
    {
        lock (_gate)
        {
            Dropped.IncTo(inspector.DroppedMessagesCount);
            _inspector = null;
        }
    }

    /// <summary>Logs a warning naming the events dropped since the last warning, once the buffer has room for it (a
    /// warning into a full buffer would be dropped too, and the count it carried lost).</summary>
    private void Report()
    {
        long count;
        int buffer;
        DateTimeOffset since, now;
        // The count is taken under the lock, the warning written outside it (writing enters the sink's own queue).
        lock (_gate)
        {
            if (_inspector is not { } inspector) return;
            var dropped = inspector.DroppedMessagesCount;
            if (dropped == _reported || inspector.Count >= inspector.BufferSize) return;
            (count, buffer, since, now) = (dropped - _reported, inspector.BufferSize, _since, DateTimeOffset.Now);
            _reported = dropped;
            _since = now;
        }
        Log.ForContext<NodeLog>().Warning(
            "{Count} log events dropped between {Since:HH:mm:ss} and {Until:HH:mm:ss}: standard output was not read as " +
            "fast as the node wrote (the buffer holds {Buffer} events, actorimages.log-buffer)", count, since, now, buffer);
    }
}

/// <summary>
/// Names the source of Akka's own lines: Akka.Logger.Serilog sets <c>SourceContext</c> to the event's log class, which
/// for a source given as a string (the cluster's, remoting's lines) is <c>Akka.Event.DummyClassForStringSources</c>;
/// such a line shows its <c>LogSource</c> property instead (e.g. <c>Cluster (akka://ActorImages)</c>).
/// </summary>
internal sealed class AkkaSourceEnricher : ILogEventEnricher
{
    private const string StringSources = "Akka.Event.DummyClassForStringSources";

    /// <inheritdoc />
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: StringSources }
            && logEvent.Properties.TryGetValue("LogSource", out var named))
            logEvent.AddOrUpdateProperty(new LogEventProperty("SourceContext", named));
    }
}
