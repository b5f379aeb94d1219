using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// SIGTERM to node 1 of a real 3-node cluster (127.0.94.1–3, two copies of each image) while four cameras keep sending
/// it P1 images and two P2 clients keep uploading through nodes 2 and 3, and while the catalog refuses (a trigger)
/// every change to the replicas of one image node 1 holds. The leave moves every other image it holds, those stored
/// during the leave included: the P1 images it takes once its leave has begun go to the other nodes, and it looks at
/// the catalog once more for uploads committed after it read its pages. So the survivors' repair, after node 1 is
/// gone, has exactly one copy left to make — the refused image's — and then every acknowledged image is on both
/// survivors.
/// </summary>
public sealed partial class LeaveUnderLoadTest(ITestOutputHelper output) : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 94, count: 3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ALeaveUnderUploadsMovesEveryImageItHoldsAndOneUnrecordableEntryDoesNotStopIt()
    {
        var acknowledged = new ConcurrentDictionary<string, byte[]>();
        string? blocked = null;
        for (var n = 0; n < 12; n++)
        {
            var image = Images.Png(9400 + n);
            await Wire.UploadP2Async(_cluster[1 + n % 3].Host, $"leave-{n}.png", image);
            acknowledged[Images.Md5(image)] = image;
            if (blocked is null && (await Wire.HoldersAsync(_cluster[2].Host, Images.Md5(image))).Contains(_cluster[1].Host))
                blocked = Images.Md5(image);
        }
        Assert.NotNull(blocked);
        await using var db = NpgsqlDataSource.Create(ConnectionString(_cluster.DbUrl));
        await BlockReplicaChangesAsync(db, blocked);

        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 2).Select(c => UploadUntilAsync(c, 2 + c % 2, acknowledged, stop.Token))
            .Concat(Enumerable.Range(0, 4).Select(c => CameraAsync(c, acknowledged, stop.Token))).ToList();
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "uploads under way", () => Task.FromResult(acknowledged.Count >= 200));

        var stopping = _cluster[1].StopAsync(TimeSpan.FromSeconds(90));
        // The trigger goes once the leave has moved what it could, before the survivors' repair (after node 1's removal)
        // records the refused image's copy: a repair whose record failed would copy it again.
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), "node 1's leave done", async () =>
            (await File.ReadAllTextAsync(_cluster[1].LogPath)).Contains("Moved "));
        await using (var unblock = db.CreateCommand("DROP TRIGGER block_replicas ON replicas")) await unblock.ExecuteNonQueryAsync();
        var exit = await stopping;
        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        // The whole log: once node 1 has left, the cameras' refused connections fill its tail.
        var log = await File.ReadAllTextAsync(_cluster[1].LogPath);
        Assert.True(exit == 0, $"a graceful leave, exit code {exit}\n{log}");
        Assert.Matches($"the copies of \"?{blocked}", log);
        var moved = MovedLine().Match(log);
        Assert.True(moved.Success, "the leave's summary\n" + log);
        output.WriteLine($"{acknowledged.Count} images acknowledged; node 1: {moved.Value}");
        Assert.Equal(int.Parse(moved.Groups["held"].Value) - 1, int.Parse(moved.Groups["moved"].Value));
        Assert.Equal("1", moved.Groups["failed"].Value);

        // After node 1 is gone: every acknowledged image on both survivors, by the leave's copies and one repair copy.
        var survivors = new[] { _cluster[2].Host, _cluster[3].Host };
        var missing = new List<string>();
        var settled = Poll.UntilAsync(TimeSpan.FromSeconds(60), "every acknowledged image on both survivors", async () =>
        {
            missing.Clear();
            foreach (var md5 in acknowledged.Keys)
            {
                var holders = await Wire.HoldersAsync(_cluster[2].Host, md5);
                if (holders.Count != 2 || !holders.All(survivors.Contains)) missing.Add($"{md5}: {string.Join(",", holders)}");
            }
            return missing.Count == 0;
        });
        try
        {
            await settled;
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; {missing.Count} not, e.g. {string.Join("; ", missing.Take(5))}\n{_cluster.Logs()}");
        }
        double repairCopies = 0;
        foreach (var host in survivors)
            repairCopies += await Wire.MetricAsync(host, "actorimages_replica_copies_total{reason=\"repair\",outcome=\"ok\"}") ?? 0;
        Assert.True(repairCopies == 1, $"the survivors' repair made {repairCopies} copies, not only the refused image's\n{_cluster.Logs()}");
        foreach (var (md5, image) in acknowledged)
            Assert.Equal(image, await Wire.GetP4Async(_cluster[3].Host, md5));
    }

    /// <summary>Client <paramref name="client"/> uploads distinct images through node <paramref name="node"/> until
    /// <paramref name="stop"/>, adding each acknowledged one.</summary>
    private async Task UploadUntilAsync(int client, int node, ConcurrentDictionary<string, byte[]> acknowledged, CancellationToken stop)
    {
        await using var p2 = await Wire.P2.ConnectAsync(_cluster[node].Host);
        await p2.CommandAsync("AUTH", "leave" + client);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var image = Images.Png((client + 1) * 100_000 + n);
            var reply = await p2.UploadAsync($"under-leave-{client}-{n}.png", image);
            Assert.True(reply.GetProperty("status").GetString() == "SUCCESS", $"upload through node {node}: {reply}");
            acknowledged[Images.Md5(image)] = image;
        }
    }

    /// <summary>Camera <paramref name="camera"/> sends node 1 distinct P1 images until <paramref name="stop"/> or until
    /// node 1 no longer takes a connection, adding each acknowledged one (the node closed in order).</summary>
    private async Task CameraAsync(int camera, ConcurrentDictionary<string, byte[]> acknowledged, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var image = Images.Png((camera + 11) * 100_000 + n);
            try
            {
                if (await Wire.SendP1Async(_cluster[1].Host, image)) acknowledged[Images.Md5(image)] = image;
            }
            catch (SocketException)
            {
                return; // node 1 is gone
            }
        }
    }

    /// <summary>Makes the catalog refuse every change to the replicas of <paramref name="md5"/>.</summary>
    private static async Task BlockReplicaChangesAsync(NpgsqlDataSource db, string md5)
    {
        await using var command = db.CreateCommand($"""
            CREATE FUNCTION block_replicas() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (CASE WHEN TG_OP = 'DELETE' THEN OLD.image_id ELSE NEW.image_id END)
                   IN (SELECT id FROM images WHERE md5 = '{md5}') THEN
                    RAISE EXCEPTION 'the test refuses changes to the replicas of {md5}';
                END IF;
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END $$;
            CREATE TRIGGER block_replicas BEFORE INSERT OR UPDATE OR DELETE ON replicas
                FOR EACH ROW EXECUTE FUNCTION block_replicas();
            """);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The Npgsql connection string of the tests' <c>postgresql://user@host:port/database</c> URL.</summary>
    private static string ConnectionString(string url)
    {
        var uri = new Uri(url);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host, Port = uri.Port, Username = uri.UserInfo, Database = uri.AbsolutePath.TrimStart('/'),
        }.ConnectionString;
    }

    [GeneratedRegex(@"Moved (?<moved>\d+) images of (?<held>\d+) to the remaining nodes \((?<copies>\d+) copies, (?<failed>\d+) failed\)")]
    private static partial Regex MovedLine();
}
