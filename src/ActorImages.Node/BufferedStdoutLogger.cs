using Akka.Event;
using AkkaLevel = Akka.Event.LogLevel;
using LogEventLevel = Serilog.Events.LogEventLevel;

namespace ActorImages.Node;

/// <summary>
/// Akka's standard-out logger (<c>akka.stdout-logger-class</c> in reference.conf): what Akka logs before its loggers
/// have started and after they have stopped — and, at shutdown, whatever was still queued for the Serilog logger actor
/// — goes through the node's log buffer (<see cref="NodeLog"/>) instead of straight to the console. Akka's own
/// <c>StandardOutLogger</c> writes to the console on the calling thread: with standard output not read, it held the
/// actor system's shutdown, and the node's exit, for as long as the reader stalled (<c>StalledLogTest</c>).
/// </summary>
public sealed class BufferedStdoutLogger : MinimalLogger
{
    /// <summary>Writes a <see cref="Akka.Event.LogEvent"/> to the node's log at its level, under its log source; anything else
    /// Akka hands a standard-out logger is written at INFO.</summary>
    /// <param name="message">An Akka log event, or any message.</param>
    protected override void Log(object message)
    {
        var log = Serilog.Log.Logger;
        if (message is not Akka.Event.LogEvent e)
        {
            log.Information("{Line}", message.ToString());
            return;
        }
        var level = e.LogLevel() switch
        {
            AkkaLevel.DebugLevel => LogEventLevel.Debug,
            AkkaLevel.InfoLevel => LogEventLevel.Information,
            AkkaLevel.WarningLevel => LogEventLevel.Warning,
            _ => LogEventLevel.Error,
        };
        log.ForContext("SourceContext", e.LogSource).Write(level, e.Cause, "{Line}", e.Message?.ToString());
    }
}
