using System.Text.Json;
using Xunit;

namespace ActorImages.Cli.Tests;

/// upload, list, download and view against a P2 server of the test (a WebSocket on HttpListener), and the query
/// commands against a small HTTP API.
public class HttpAndP2Tests
{
    private static readonly string Rocket = Path.Combine(Cli.Images, "rocket.jpg");
    private static readonly string Chelsea = Path.Combine(Cli.Images, "chelsea.png");

    [Fact]
    public async Task UploadListAndDownloadRoundTripThroughTheP2Codecs()
    {
        using var server = new FakeP2Server();
        string port = server.Port.ToString();
        var upload = await Cli.RunAsync("upload", Rocket, Chelsea, "--p2-port", port, "--user", "ana");
        Assert.True(upload.Code == Exit.Ok, upload.ToString());
        Assert.Contains("Upload de rocket.jpg concluído. ID: 1", upload.Out);
        Assert.Contains("uploaded 2 of 2 files (0.4 MB)", upload.Out);

        var list = await Cli.RunAsync("list", "--p2-port", port, "--json");
        Assert.True(list.Code == Exit.Ok, list.ToString());
        var files = JsonDocument.Parse(list.Out).RootElement;
        Assert.Equal("rocket.jpg", files[0].GetProperty("filename").GetString());
        Assert.Equal("ana", files[1].GetProperty("uploader").GetString());

        using var folder = Cli.TempFolder();
        var download = await Cli.RunAsync("download", "chelsea.png", "--p2-port", port, "-o", folder.Path);
        Assert.True(download.Code == Exit.Ok, download.ToString());
        Assert.Equal(["chelsea.png"], folder.Files()); // SIZE_INFO's "../chelsea.png" stays inside the folder
        Assert.Equal(File.ReadAllBytes(Chelsea), File.ReadAllBytes(Path.Combine(folder.Path, "chelsea.png")));

        var view = await Cli.RunAsync("view", "rocket.jpg", "--no-open", "--p2-port", port);
        Assert.True(view.Code == Exit.Ok, view.ToString());
        string saved = view.Out.Trim()["saved ".Length..];
        Assert.Equal(File.ReadAllBytes(Rocket), File.ReadAllBytes(saved));
        Directory.Delete(Path.GetDirectoryName(saved)!, recursive: true);
    }

    [Fact]
    public async Task TheNodesErrorsAreExitCode1WithItsText()
    {
        using var server = new FakeP2Server();
        string port = server.Port.ToString();
        using var folder = Cli.TempFolder();
        var missing = await Cli.RunAsync("download", "nope.jpg", "--p2-port", port, "-o", folder.Path);
        Assert.Equal(Exit.NodeError, missing.Code);
        Assert.Contains($"127.0.0.1:{port} DOWNLOAD nope.jpg: Arquivo nao encontrado.", missing.Err);
        Assert.Empty(folder.Files());

        File.Copy(Rocket, Path.Combine(folder.Path, "refuse-me.jpg"));
        var refused = await Cli.RunAsync("upload", Path.Combine(folder.Path, "refuse-me.jpg"), Chelsea, "--p2-port", port);
        Assert.Equal(Exit.NodeError, refused.Code); // reported, and the other file still went
        Assert.Contains("Falha no upload: not an image", refused.Err);
        Assert.Contains("uploaded 1 of 2 files", refused.Out);
    }

    [Fact]
    public async Task ADownloadOfAnotherSizeThanAnnouncedIsExitCode5AndLeavesNothing()
    {
        using var server = new FakeP2Server(lieAboutSize: true);
        string port = server.Port.ToString();
        Assert.Equal(Exit.Ok, (await Cli.RunAsync("upload", Chelsea, "--p2-port", port)).Code);
        using var folder = Cli.TempFolder();
        var result = await Cli.RunAsync("download", "chelsea.png", "--p2-port", port, "-o", folder.Path);
        Assert.True(result.Code == Exit.Integrity, result.ToString());
        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task QueryPrintsTheNodesAnswersAndA404IsExitCode1()
    {
        const string md5 = "0cc175b9c0f1b6a831c399e269772661";
        using var api = new SmallHttpServer(context => context.Request.Url!.AbsolutePath switch
        {
            "/api/cluster" => SmallHttpServer.Json(context, 200, """
                {"self":"127.0.0.1","members":[{"host":"127.0.0.1","address":"akka.tcp://ActorImages@127.0.0.1:25520","status":"Up","roles":["node"],"reachable":true}],"leader":"127.0.0.1","trackerHost":"127.0.0.1"}
                """),
            "/api/images" => SmallHttpServer.Json(context, 200, $$"""
                {"images":[{"md5":"{{md5}}","size":1234,"filename":"fotó.jpg","uploader":"ana","protocol":"P2","receivedAt":"2026-12-02T07:00:00Z","nodes":["127.0.0.1","127.0.0.2"]}],"next":"{{md5}}-1"}
                """),
            _ => SmallHttpServer.Json(context, 404, """{"status":404,"error":"no such image"}"""),
        });
        string port = api.Port.ToString();
        var cluster = await Cli.RunAsync("query", "cluster", "--http-port", port);
        Assert.True(cluster.Code == Exit.Ok, cluster.ToString());
        Assert.Contains("tracker: 127.0.0.1", cluster.Out);
        Assert.Contains("Up", cluster.Out);

        var images = await Cli.RunAsync("query", "images", "--limit", "1", "--http-port", port);
        Assert.True(images.Code == Exit.Ok, images.ToString());
        Assert.Contains("fotó.jpg", images.Out);
        Assert.Contains("127.0.0.1 127.0.0.2", images.Out);
        Assert.Contains($"next page: --after {md5}-1", images.Err);

        var json = await Cli.RunAsync("query", "cluster", "--json", "--http-port", port);
        Assert.Equal("127.0.0.1", JsonDocument.Parse(json.Out).RootElement.GetProperty("leader").GetString());

        var missing = await Cli.RunAsync("query", "image", md5, "--http-port", port);
        Assert.Equal(Exit.NodeError, missing.Code);
        Assert.Contains($"GET /api/images/{md5}: 404 no such image", missing.Err);
    }
}
