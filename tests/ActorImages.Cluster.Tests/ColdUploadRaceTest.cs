using System.Net;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// The first upload a node takes after the cluster is Up is stored like any other. Each attempt starts a fresh
/// 2-node cluster on 127.0.48.1–2 and sends one P1 image to each node whose md5 places that node first (rendezvous
/// order, docs/design.md), so that <c>Ingestion</c> starts the local commit before the remote push. The race it guards
/// against (fixed in ec22c8d) was timing-dependent: before the fix about one first upload in six failed.
/// </summary>
public sealed class ColdUploadRaceTest
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task TheFirstUploadOfAFreshClusterIsStored()
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await using var cluster = await TestCluster.StartAsync(subnet: 48, count: 2);
            var addresses = cluster.Nodes.Select(n => $"akka.tcp://ActorImages@{n.Host}:25520").ToList();
            // Each node's first upload at once, each placed on that node first.
            var images = new[]
            {
                LocalFirst($"cold-{attempt}-1-{Guid.NewGuid():N}", addresses[0], addresses[1]),
                LocalFirst($"cold-{attempt}-2-{Guid.NewGuid():N}", addresses[1], addresses[0]),
            };
            await Task.WhenAll(images.Select((image, i) => RawWire.SendP1Async(cluster.Nodes[i].Host, image)));
            for (var i = 0; i < 2; i++)
            {
                using var entry = await Http.GetAsync(new Uri(cluster[1].HttpBase, $"api/images/{Images.Md5(images[i])}"));
                if (entry.StatusCode != HttpStatusCode.OK) failures.Add($"attempt {attempt}, node {i + 1}: not stored\n{cluster.Nodes[i].Tail(5)}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>A distinct JPEG whose rendezvous weight is higher on <paramref name="first"/> than on
    /// <paramref name="second"/> (Membership.Rank: SHA-256 of <c>md5|address</c>, first 8 bytes big-endian).</summary>
    private static byte[] LocalFirst(string tag, string first, string second)
    {
        for (var i = 0; ; i++)
        {
            var image = Images.Jpeg($"{tag}-{i}");
            var md5 = Images.Md5(image);
            if (Weight(md5, first) > Weight(md5, second)) return image;
        }
    }

    private static ulong Weight(string md5, string address) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(md5 + "|" + address)));
}
