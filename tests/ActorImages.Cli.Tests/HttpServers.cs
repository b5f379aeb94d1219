using System.Net;
using System.Net.WebSockets;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Cli.Tests;

/// An HttpListener on 127.0.0.1 with a free port, serving one handler per request until disposed.
internal sealed class SmallHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();

    public SmallHttpServer(Func<HttpListenerContext, Task> handle)
    {
        Port = CommandLineTests.ClosedPort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                _ = Task.Run(() => handle(context));
            }
        });
    }

    public int Port { get; }

    public void Dispose() => _listener.Close();

    public static async Task Json(HttpListenerContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        byte[] body = Encoding.UTF8.GetBytes(json);
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
    }
}

/// A P2 repository in the test: the real codecs, files kept in memory, and a NEW_UPLOAD event pushed before every
/// reply so the client has to skip events. `lieAboutSize` announces one byte more than it sends.
internal sealed class FakeP2Server : IDisposable
{
    private readonly SmallHttpServer _http;
    private readonly bool _lieAboutSize;

    public FakeP2Server(bool lieAboutSize = false)
    {
        _lieAboutSize = lieAboutSize;
        _http = new SmallHttpServer(ServeAsync);
    }

    public int Port => _http.Port;

    public List<(string Filename, string Uploader, byte[] Bytes)> Files { get; } = [];

    private async Task ServeAsync(HttpListenerContext context)
    {
        var socket = (await context.AcceptWebSocketAsync(null)).WebSocket;
        string user = "anon";
        var buffer = new byte[1 << 20];
        while (socket.State == WebSocketState.Open)
        {
            var (type, message) = await ReceiveAsync(socket, buffer);
            if (type == WebSocketMessageType.Close) return;
            await SendText(socket, P2Reply.NewUpload("other.jpg", "someone"));
            switch (P2Request.Parse(Encoding.UTF8.GetString(message)))
            {
                case P2Request.Auth auth:
                    user = auth.User;
                    await SendText(socket, P2Reply.Authenticated(user));
                    break;
                case P2Request.List:
                    await SendText(socket, P2Reply.List(Files.Select(f => new P2ListedFile(f.Filename, f.Uploader))));
                    break;
                case P2Request.Upload upload:
                    await SendText(socket, P2Reply.Ready());
                    var (_, bytes) = await ReceiveAsync(socket, buffer);
                    if (bytes.Length != upload.Size || upload.Filename.StartsWith("refuse"))
                    {
                        await SendText(socket, P2Reply.UploadFailed("not an image"));
                        break;
                    }
                    Files.Add((upload.Filename, user, bytes));
                    await SendText(socket, P2Reply.Uploaded(upload.Filename, Files.Count.ToString()));
                    break;
                case P2Request.Download download:
                    await SendFileAsync(socket, download.Filename, P2TransferMode.Download);
                    break;
                case P2Request.View view:
                    await SendFileAsync(socket, view.Filename, P2TransferMode.View);
                    break;
                case P2Request.Disconnect:
                    await SendText(socket, P2Reply.Bye(user));
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", default);
                    return;
                case P2Request.Invalid invalid:
                    await SendText(socket, P2Reply.Error(invalid.ErrorMessage));
                    break;
            }
        }
    }

    private async Task SendFileAsync(WebSocket socket, string name, P2TransferMode mode)
    {
        var file = Files.FirstOrDefault(f => f.Filename == name);
        if (file.Bytes is null)
        {
            await SendText(socket, P2Reply.Error(P2Reply.FileNotFound));
            return;
        }
        await SendText(socket, P2Reply.SizeInfo(file.Bytes.Length + (_lieAboutSize ? 1 : 0), "../" + name, mode));
        await socket.SendAsync(file.Bytes, WebSocketMessageType.Binary, true, default);
        await SendText(socket, P2Reply.Transferred(name));
    }

    private static Task SendText(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, default);

    private static async Task<(WebSocketMessageType, byte[])> ReceiveAsync(WebSocket socket, byte[] buffer)
    {
        var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, default);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
        return (result.MessageType, message.ToArray());
    }

    public void Dispose() => _http.Dispose();
}
