using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorImages.Bench;

/// <summary>
/// The minimal durable P1 sink bin/bench measures first, as the yardstick of P1 ingest on this machine: accept,
/// read the 4-byte length and the bytes into a temp file, fsync, rename, close once the client closed. Plain
/// sockets; no hashing, no probing, no catalog, no replicas. Runs as its own process (<c>sink-p1 HOST PORT DIR</c>).
/// </summary>
internal static class ReferenceSink
{
    /// <summary>Serves until killed; prints <c>ready</c> once listening.</summary>
    public static async Task RunAsync(IPEndPoint at, string folder)
    {
        Directory.CreateDirectory(folder);
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(at);
        listener.Listen(1024);
        Console.WriteLine("ready");
        long files = 0;
        while (true)
        {
            var client = await listener.AcceptAsync();
            _ = Task.Run(async () =>
            {
                using (client)
                await using (var stream = new NetworkStream(client))
                {
                    var header = new byte[4];
                    var buffer = new byte[64 * 1024];
                    while (await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false) == 4)
                    {
                        long left = BinaryPrimitives.ReadUInt32BigEndian(header);
                        long n = Interlocked.Increment(ref files);
                        string temp = Path.Combine(folder, $".{n}.tmp");
                        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
                        {
                            while (left > 0)
                            {
                                int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
                                if (read == 0) break;
                                await file.WriteAsync(buffer.AsMemory(0, read));
                                left -= read;
                            }
                            file.Flush(flushToDisk: true);
                        }
                        if (left > 0) File.Delete(temp); // truncated: nothing becomes visible
                        else File.Move(temp, Path.Combine(folder, $"{n}.jpg"));
                    }
                }
            });
        }
    }
}

/// <summary>
/// The minimal UDP responder bin/bench measures first, as the yardstick of P3: one socket, one thread, every
/// datagram answered with the same 4,096-byte <c>LST</c> reply. Runs as its own process (<c>responder-p3 HOST PORT</c>).
/// </summary>
internal static class ReferenceResponder
{
    /// <summary>Serves until killed; prints <c>ready</c> once bound.</summary>
    public static void Run(IPEndPoint at)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(at);
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
        byte[] reply = Listing();
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        Console.WriteLine("ready");
        while (true)
        {
            socket.ReceiveFrom(buffer, ref from);
            socket.SendTo(reply, from);
        }
    }

    /// <summary>A well-formed LST reply of exactly 4,096 bytes: <c>md5,name,ip:port</c> items joined by <c>;</c>.</summary>
    public static byte[] Listing()
    {
        var text = new StringBuilder();
        for (int i = 0; ; i++)
        {
            string item = $"{i:x32},bench-{i:D4}.jpg,127.0.0.1:13378";
            if (text.Length + 1 + item.Length > 4096 - 128) break; // room for one last, stretched item
            if (text.Length > 0) text.Append(';');
            text.Append(item);
        }
        string last = $";{0xffff:x32},bench-last";
        string holder = ".jpg,127.0.0.1:13378";
        text.Append(last).Append('x', 4096 - text.Length - last.Length - holder.Length).Append(holder);
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
