using System.Collections.Concurrent;

namespace ActorImages.Faults.Tests;

/// <summary>What a group of upload clients achieved: the images acknowledged with SUCCESS, the uploads that were not.</summary>
/// <param name="signalAfter">Number of acknowledgements after which <see cref="Enough"/> completes.</param>
public sealed class UploadTally(int signalAfter)
{
    private int _failed;
    private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>md5 → bytes of every upload answered SUCCESS.</summary>
    public ConcurrentDictionary<string, byte[]> Acknowledged { get; } = new();

    /// <summary>Uploads answered with an error, or cut off with their connection.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Completes once the number of uploads given at construction were acknowledged.</summary>
    public Task Enough => _enough.Task;

    internal void Ack(byte[] image)
    {
        Acknowledged[Images.Md5(image)] = image;
        if (Acknowledged.Count >= signalAfter) _enough.TrySetResult();
    }

    internal void Fail() => Interlocked.Increment(ref _failed);
}

/// <summary>A stream of P2 uploads from one legacy-style client (KillDuringUploadsTest, bin/faults): each image is
/// distinct; when its node goes away the client counts the upload as failed and moves on to the next live node.</summary>
public static class Uploads
{
    /// <summary>Uploads <paramref name="count"/> images from client <paramref name="client"/>, starting on node
    /// <c>client % nodes + 1</c>.</summary>
    /// <param name="client">The client number (also seeds its images).</param>
    /// <param name="count">Uploads to send.</param>
    /// <param name="nodes">Number of nodes.</param>
    /// <param name="host">Node number (1-based) → address.</param>
    /// <param name="alive">Node number → whether it may still be used.</param>
    /// <param name="tally">Receives the outcomes.</param>
    /// <param name="seedBase">Added to every image seed: another base gives other images (bin/faults runs again
    /// against the same catalog).</param>
    /// <returns>A task that completes when every upload was tried.</returns>
    public static async Task RunAsync(int client, int count, int nodes, Func<int, string> host, Func<int, bool> alive,
        UploadTally tally, int seedBase = 0)
    {
        var node = client % nodes + 1;
        Wire.P2? p2 = null;
        try
        {
            for (var n = 0; n < count; n++)
            {
                var image = Images.Png(seedBase + client * 1000 + n);
                try
                {
                    if (p2 is null)
                    {
                        p2 = await Wire.P2.ConnectAsync(host(node));
                        await p2.CommandAsync("AUTH", "client" + client);
                    }
                    var reply = await p2.UploadAsync($"img-{client}-{n}.png", image);
                    if (reply.GetProperty("status").GetString() == "SUCCESS") tally.Ack(image);
                    else tally.Fail();
                }
                catch (Exception)
                {
                    tally.Fail();
                    if (p2 is not null) await p2.DisposeAsync();
                    p2 = null;
                    do node = node % nodes + 1; while (!alive(node));
                }
            }
        }
        finally
        {
            if (p2 is not null) await p2.DisposeAsync();
        }
    }
}
