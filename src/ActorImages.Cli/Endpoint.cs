using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace ActorImages.Cli;

/// <summary>
/// One <c>host:port</c> the CLI talks to (a node's P1–P4 or HTTP port, a peer's P4 port), and the translation of
/// socket errors into failures that name it.
/// </summary>
/// <param name="Host">A host name or IP address.</param>
/// <param name="Port">A TCP or UDP port, 0–65535.</param>
internal sealed record Endpoint(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>; the last <c>:</c> separates the port.</summary>
    /// <exception cref="FormatException">If there is no port or it is not 0–65535.</exception>
    public static Endpoint Parse(string hostPort)
    {
        int colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || colon == hostPort.Length - 1)
        {
            throw new FormatException("expected host:port, got " + hostPort);
        }
        if (!int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port > 65535)
        {
            throw new FormatException("not a port 0-65535: " + hostPort);
        }
        return new Endpoint(hostPort[..colon], port);
    }

    /// <summary>
    /// The failure to report for <paramref name="error"/> met while talking to this endpoint: <c>connection
    /// refused: h:p</c>, <c>timed out: h:p</c>, <c>unknown host: h</c>, or <c>connection lost: h:p (reason)</c>;
    /// all <see cref="Exit.Connection"/>. A <see cref="CliFailure"/> passes through unchanged.
    /// </summary>
    public CliFailure Failure(Exception error)
    {
        if (error is CliFailure failure)
        {
            return failure;
        }
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                string what = socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused: " + this,
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "unknown host: " + Host,
                    SocketError.TimedOut => "timed out: " + this,
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to host: " + this,
                    SocketError.AddressAlreadyInUse => "address in use: " + this,
                    _ => $"connection lost: {this} ({socket.Message})",
                };
                return CliFailure.Connection(what, error);
            }
            if (e is TimeoutException or OperationCanceledException)
            {
                return CliFailure.Connection("timed out: " + this, error);
            }
        }
        string reason = error is WebSocketException or IOException or HttpRequestException
            ? error.Message : error.GetType().Name + ": " + error.Message;
        return CliFailure.Connection($"connection lost: {this} ({reason})", error);
    }

    /// <summary><c>host:port</c>.</summary>
    public override string ToString() => Host + ":" + Port.ToString(CultureInfo.InvariantCulture);
}
