using System.Text;
using System.Text.Json;
using Xunit;

namespace ActorImages.Protocols.Tests;

public class P2ReplyTests
{
    /// Each reply exactly as the docs/protocols.md P2 table writes it.
    public static TheoryData<string, string> Replies => new()
    {
        { P2Reply.Authenticated("maria"), "{\"status\":\"SUCCESS\",\"message\":\"Autenticado como maria\"}" },
        {
            P2Reply.History([P2Reply.NewUploadMessage("a.jpg", "maria"), P2Reply.NewUploadMessage("b.png", "tcp:10.0.0.7")]),
            "{\"event\":\"HISTORY\",\"data\":["
            + "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'a.jpg' enviado por maria.\"},"
            + "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'b.png' enviado por tcp:10.0.0.7.\"}]}"
        },
        { P2Reply.History([]), "{\"event\":\"HISTORY\",\"data\":[]}" },
        {
            P2Reply.List([new("a.jpg", "maria"), new("b.png", "anon")]),
            "{\"status\":\"SUCCESS\",\"cmd\":\"LIST\",\"data\":["
            + "{\"filename\":\"a.jpg\",\"uploader\":\"maria\"},{\"filename\":\"b.png\",\"uploader\":\"anon\"}]}"
        },
        { P2Reply.List([]), "{\"status\":\"SUCCESS\",\"cmd\":\"LIST\",\"data\":[]}" },
        { P2Reply.Ready(), "{\"status\":\"READY\",\"cmd\":\"UPLOAD_DATA\"}" },
        { P2Reply.Uploaded("a.jpg", "7f3a"), "{\"status\":\"SUCCESS\",\"message\":\"Upload de a.jpg concluído. ID: 7f3a\"}" },
        { P2Reply.NewUpload("a.jpg", "maria"), "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'a.jpg' enviado por maria.\"}" },
        {
            P2Reply.SizeInfo(123456, "a.jpg", P2TransferMode.Download),
            "{\"status\":\"SIZE_INFO\",\"size\":123456,\"filename\":\"a.jpg\",\"mode\":\"DOWNLOAD\"}"
        },
        {
            P2Reply.SizeInfo(5_000_000_000L, "a.jpg", P2TransferMode.View),
            "{\"status\":\"SIZE_INFO\",\"size\":5000000000,\"filename\":\"a.jpg\",\"mode\":\"VIEW\"}"
        },
        { P2Reply.Transferred("a.jpg"), "{\"status\":\"SUCCESS\",\"message\":\"Transferência de a.jpg concluída.\"}" },
        { P2Reply.Bye("maria"), "{\"status\":\"BYE\",\"message\":\"Cliente maria se desconectando...\"}" },
        { P2Reply.Error(P2Reply.FileNotFound), "{\"status\":\"ERROR\",\"message\":\"Arquivo nao encontrado.\"}" },
        { P2Reply.Error(P2Reply.NotJson), "{\"status\":\"ERROR\",\"message\":\"Formato inválido (não é JSON).\"}" },
        { P2Reply.UploadFailed("size mismatch"), "{\"status\":\"ERROR\",\"message\":\"Falha no upload: size mismatch\"}" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void ReplyIsByteForByteTheProtocolTable(string rendered, string expected) =>
        Assert.Equal(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(rendered));

    [Fact]
    public void AccentsAndEmojiTravelAsRawUtf8NotAsEscapes()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(P2Reply.Uploaded("😀.jpg", "1"));
        string text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("conclu\u00eddo", text);
        Assert.Contains("😀", text);
        Assert.DoesNotContain("\\u", text);
        Assert.Contains("conclu\u00c3\u00addo", Encoding.Latin1.GetString(bytes)); // 'í' is C3 AD
    }

    [Fact]
    public void HostileNamesStayValidJsonAndComeBackUnchanged()
    {
        const string name = "a\"b\\c\n\u0000\u001f'</script>é😀.jpg";
        Assert.Equal(name, JsonDocument.Parse(P2Reply.SizeInfo(1, name, P2TransferMode.Download)).RootElement.GetProperty("filename").GetString());
        var listed = JsonDocument.Parse(P2Reply.List([new(name, name)])).RootElement;
        Assert.Equal(name, listed.GetProperty("data")[0].GetProperty("uploader").GetString());
        var newUpload = JsonDocument.Parse(P2Reply.NewUpload(name, "bob")).RootElement;
        Assert.Equal("Novo arquivo '" + name + "' enviado por bob.", newUpload.GetProperty("message").GetString());
    }

    [Fact]
    public void ALoneSurrogateIsEscapedSoTheFrameStaysUtf8()
    {
        string reply = P2Reply.Transferred("a\ud800b");
        Assert.Contains("a\\ud800b", reply);
        Assert.True(System.Text.Unicode.Utf8.IsValid(Encoding.UTF8.GetBytes(reply)));
    }

    [Fact]
    public void EveryEventCarriesTheEventKeyAndNoReplyDoes()
    {
        Assert.True(JsonDocument.Parse(P2Reply.NewUpload("a", "b")).RootElement.TryGetProperty("event", out _));
        var history = JsonDocument.Parse(P2Reply.History([P2Reply.NewUploadMessage("a", "b")])).RootElement;
        Assert.True(history.TryGetProperty("event", out _));
        Assert.True(history.GetProperty("data")[0].TryGetProperty("event", out _));
        foreach (string reply in new[] { P2Reply.Authenticated("a"), P2Reply.Ready(), P2Reply.Error("x"), P2Reply.List([]),
                     P2Reply.Bye("a"), P2Reply.Transferred("a"), P2Reply.Uploaded("a", "1") })
        {
            Assert.False(JsonDocument.Parse(reply).RootElement.TryGetProperty("event", out _), reply);
        }
    }

    [Fact]
    public void ListWithinABudgetKeepsTheNewestInUploadOrder()
    {
        var files = Enumerable.Range(0, 10).Select(i => new P2ListedFile($"f{i}.jpg", "ana")).ToList();
        string whole = P2Reply.List(files);
        Assert.Equal(whole, P2Reply.ListWithin(files, out int all));
        Assert.Equal(10, all);

        int budget = Encoding.UTF8.GetByteCount(P2Reply.List(files.Skip(7).ToList()));
        string cut = P2Reply.ListWithin(files, out int listed, budget);
        Assert.Equal(P2Reply.List(files.Skip(7).ToList()), cut);
        Assert.Equal(3, listed);
        Assert.Equal(cut, P2Reply.ListWithin(files, out _, budget + 5)); // the 4th newest needs more than 5 bytes

        Assert.Equal(P2Reply.List([]), P2Reply.ListWithin(files, out int none, 50));
        Assert.Equal(0, none);
    }

    [Fact]
    public void ListOfAHugeCatalogStaysUnderTheLegacyClientsOneMebibyte()
    {
        var files = Enumerable.Range(0, 30_000).Select(i => new P2ListedFile($"fotó-{i:D6}-日本.jpg", "usuário")).ToList();
        string reply = P2Reply.ListWithin(files, out int listed);
        int bytes = Encoding.UTF8.GetByteCount(reply);
        Assert.InRange(bytes, P2Reply.LegacyMaxMessageBytes - 200, P2Reply.LegacyMaxMessageBytes);
        Assert.True(listed < files.Count);
        var data = JsonDocument.Parse(reply).RootElement.GetProperty("data");
        Assert.Equal(listed, data.GetArrayLength());
        Assert.Equal(files[^1].Filename, data[listed - 1].GetProperty("filename").GetString());
        Assert.Equal(files[^listed].Filename, data[0].GetProperty("filename").GetString());
    }

    [Fact]
    public void ClientReadsRepliesAndTellsEventsByTheirKey()
    {
        var size = Assert.IsType<P2ServerMessage.Reply>(P2ServerMessage.Parse(P2Reply.SizeInfo(42, "a.png", P2TransferMode.View)));
        Assert.Equal(("SIZE_INFO", 42L, "a.png", "VIEW"), (size.Status, size.Size!.Value, size.Filename, size.Mode));

        var list = Assert.IsType<P2ServerMessage.Reply>(P2ServerMessage.Parse(P2Reply.List([new("a", "b"), new("c", "d")])));
        Assert.Equal([new("a", "b"), new("c", "d")], list.Files);
        Assert.Equal("LIST", list.Cmd);

        var error = Assert.IsType<P2ServerMessage.Reply>(P2ServerMessage.Parse(P2Reply.Error(P2Reply.FileNotFound)));
        Assert.Equal(("ERROR", P2Reply.FileNotFound), (error.Status, error.Message));

        var newUpload = Assert.IsType<P2ServerMessage.Event>(P2ServerMessage.Parse(P2Reply.NewUpload("a", "b")));
        Assert.Equal(("NEW_UPLOAD", "Novo arquivo 'a' enviado por b."), (newUpload.Name, newUpload.Message));

        var history = Assert.IsType<P2ServerMessage.Event>(P2ServerMessage.Parse(
            P2Reply.History([P2Reply.NewUploadMessage("a", "b"), P2Reply.NewUploadMessage("c", "d")])));
        Assert.Equal(["Novo arquivo 'a' enviado por b.", "Novo arquivo 'c' enviado por d."], history.History);

        Assert.IsType<P2ServerMessage.Unreadable>(P2ServerMessage.Parse("not json"));
        Assert.IsType<P2ServerMessage.Unreadable>(P2ServerMessage.Parse("[1]"));
    }
}
