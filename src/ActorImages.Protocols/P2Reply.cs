using System.Text;

namespace ActorImages.Protocols;

/// <summary>One row of the P2 <c>LIST</c> reply (docs/protocols.md, P2).</summary>
/// <param name="Filename">The catalog label.</param>
/// <param name="Uploader">The P2 user name; <c>tcp:&lt;peer-ip&gt;</c> for P1, <c>http:&lt;peer-ip&gt;</c> for HTTP.</param>
public sealed record P2ListedFile(string Filename, string Uploader);

/// <summary>Which P2 command asked for a file: the reply's <c>SIZE_INFO.mode</c> (docs/protocols.md, P2).</summary>
public enum P2TransferMode
{
    /// <summary><c>DOWNLOAD</c>: the client saves the file.</summary>
    Download,

    /// <summary><c>VIEW</c>: the client shows the file; the bytes are the same.</summary>
    View,
}

/// <summary>
/// Renders the replies and events of the P2 WebSocket repository (docs/protocols.md, P2), each the content of one
/// text frame: compact JSON (no spaces), keys in the order of the protocol table, the seed's Portuguese texts as
/// raw UTF-8. Every event carries an <c>"event"</c> key and no reply does, because the legacy client takes any
/// object without it for the reply it awaits.
/// </summary>
public static class P2Reply
{
    /// <summary>Error text: a text frame that is not JSON.</summary>
    public const string NotJson = "Formato inválido (não é JSON).";

    /// <summary>Error text: an unknown <c>cmd</c> (also JSON that is no command object).</summary>
    public const string UnknownCommand = "Comando desconhecido.";

    /// <summary>Error text: <c>UPLOAD</c> without exactly 2 args, or a filename that is not a string.</summary>
    public const string UploadFormat = "Formato UPLOAD incorreto (esperado: [filename, size]).";

    /// <summary>Error text: an <c>UPLOAD</c> size that is not a non-negative integer.</summary>
    public const string InvalidSize = "Tamanho do arquivo invalido.";

    /// <summary>Error text: <c>DOWNLOAD</c>/<c>VIEW</c> without exactly 1 arg, or one that is not a string.</summary>
    public const string FilenameFormat = "Formato invalido (esperado: [filename]).";

    /// <summary>Error text: <c>DOWNLOAD</c>/<c>VIEW</c> of a filename the catalog does not hold.</summary>
    public const string FileNotFound = "Arquivo nao encontrado.";

    /// <summary>
    /// Error text: the catalog holds the file but no reachable node could serve its bytes in time. Not in the seed,
    /// whose single server could not lose its disk; worded in its language (docs/protocols.md, P2).
    /// </summary>
    public const string FileUnavailable = "Arquivo indisponivel no momento.";

    /// <summary>
    /// The largest message the legacy P2 client accepts: 1 MiB (1,048,576 bytes), the <c>websockets</c> library's
    /// default <c>max_size</c>; it closes the connection (1009) on anything larger (docs/protocols.md, P2).
    /// </summary>
    public const int LegacyMaxMessageBytes = 1 << 20;

    /// <summary><c>{"status":"SUCCESS","message":"Autenticado como &lt;username&gt;"}</c>, the reply to AUTH.</summary>
    public static string Authenticated(string username) =>
        Status("SUCCESS").Put("message", "Autenticado como " + username).End();

    /// <summary>
    /// <c>{"event":"HISTORY","data":[{"event":"NEW_UPLOAD","message":…}, …]}</c>, sent after the AUTH reply when
    /// uploads happened. Which (the last 5, oldest first) is the caller's choice; an empty list renders
    /// <c>"data":[]</c>.
    /// </summary>
    /// <param name="newUploadMessages">Texts from <see cref="NewUploadMessage"/>, in the order to show.</param>
    public static string History(IEnumerable<string> newUploadMessages)
    {
        var data = new StringBuilder("[");
        foreach (string message in newUploadMessages)
        {
            if (data.Length > 1)
            {
                data.Append(',');
            }
            data.Append(P2Json.Object().Put("event", "NEW_UPLOAD").Put("message", message).End());
        }
        return P2Json.Object().Put("event", "HISTORY").PutRaw("data", data.Append(']').ToString()).End();
    }

    /// <summary><c>{"status":"SUCCESS","cmd":"LIST","data":[{"filename":"…","uploader":"…"}, …]}</c>.</summary>
    /// <param name="filesInUploadOrder">The catalog in upload order (docs/protocols.md, P2), all of it.</param>
    public static string List(IEnumerable<P2ListedFile> filesInUploadOrder)
    {
        var data = new StringBuilder("[");
        foreach (var file in filesInUploadOrder)
        {
            if (data.Length > 1)
            {
                data.Append(',');
            }
            data.Append(Row(file));
        }
        return ListEnvelope(data.Append(']').ToString());
    }

    /// <summary>
    /// The <c>LIST</c> reply cut to the newest files whose reply fits in <paramref name="maxBytes"/> UTF-8 bytes,
    /// still in upload order: a reply over 1 MiB would make the legacy client drop the connection
    /// (docs/protocols.md, P2), so past that size the oldest files are left out.
    /// </summary>
    /// <param name="filesInUploadOrder">The catalog, oldest first.</param>
    /// <param name="maxBytes">The most UTF-8 bytes the reply may take; default <see cref="LegacyMaxMessageBytes"/>.</param>
    /// <param name="listed">How many files, the newest ones, the reply holds.</param>
    /// <returns>The reply; with <c>"data":[]</c> if not even the newest file fits.</returns>
    public static string ListWithin(IReadOnlyList<P2ListedFile> filesInUploadOrder, out int listed,
        int maxBytes = LegacyMaxMessageBytes)
    {
        long budget = maxBytes - P2Json.Utf8.GetByteCount(ListEnvelope("[]"));
        var rows = new List<string>();
        for (int i = filesInUploadOrder.Count - 1; i >= 0; i--)
        {
            string row = Row(filesInUploadOrder[i]);
            long cost = P2Json.Utf8.GetByteCount(row) + (rows.Count > 0 ? 1 : 0);
            if (cost > budget)
            {
                break;
            }
            budget -= cost;
            rows.Add(row);
        }
        rows.Reverse();
        listed = rows.Count;
        return ListEnvelope("[" + string.Join(',', rows) + "]");
    }

    /// <summary><c>{"status":"READY","cmd":"UPLOAD_DATA"}</c>: the client may now send the file's binary frame.</summary>
    public static string Ready() => Status("READY").Put("cmd", "UPLOAD_DATA").End();

    /// <summary><c>{"status":"SUCCESS","message":"Upload de &lt;filename&gt; concluído. ID: &lt;id&gt;"}</c>.</summary>
    public static string Uploaded(string filename, string id) =>
        Status("SUCCESS").Put("message", "Upload de " + filename + " concluído. ID: " + id).End();

    /// <summary>The text of a NEW_UPLOAD event: <c>Novo arquivo '&lt;filename&gt;' enviado por &lt;username&gt;.</c></summary>
    public static string NewUploadMessage(string filename, string username) =>
        "Novo arquivo '" + filename + "' enviado por " + username + ".";

    /// <summary>
    /// <c>{"event":"NEW_UPLOAD","message":"Novo arquivo '&lt;filename&gt;' enviado por &lt;username&gt;."}</c>,
    /// pushed to every connected client on every node after an upload.
    /// </summary>
    public static string NewUpload(string filename, string username) =>
        P2Json.Object().Put("event", "NEW_UPLOAD").Put("message", NewUploadMessage(filename, username)).End();

    /// <summary>
    /// <c>{"status":"SIZE_INFO","size":&lt;n&gt;,"filename":"…","mode":"DOWNLOAD"|"VIEW"}</c>. Send it only when
    /// the bytes are in hand or certain to follow: the legacy client then waits for exactly one binary frame.
    /// </summary>
    /// <param name="size">The file's size in bytes, rendered as a JSON number.</param>
    /// <param name="filename">The name the client saves the file under.</param>
    /// <param name="mode">Which command asked.</param>
    public static string SizeInfo(long size, string filename, P2TransferMode mode) =>
        Status("SIZE_INFO").Put("size", size).Put("filename", filename)
            .Put("mode", mode == P2TransferMode.View ? "VIEW" : "DOWNLOAD").End();

    /// <summary><c>{"status":"SUCCESS","message":"Transferência de &lt;filename&gt; concluída."}</c>, after the binary frame.</summary>
    public static string Transferred(string filename) =>
        Status("SUCCESS").Put("message", "Transferência de " + filename + " concluída.").End();

    /// <summary><c>{"status":"BYE","message":"Cliente &lt;username&gt; se desconectando..."}</c>, before the server closes.</summary>
    public static string Bye(string username) =>
        Status("BYE").Put("message", "Cliente " + username + " se desconectando...").End();

    /// <summary><c>{"status":"ERROR","message":"&lt;message&gt;"}</c>; the connection stays open.</summary>
    /// <param name="message">One of this class's error constants, or another short text.</param>
    public static string Error(string message) => Status("ERROR").Put("message", message).End();

    /// <summary>
    /// <c>{"status":"ERROR","message":"Falha no upload: &lt;reason&gt;"}</c>: the binary frame did not match the
    /// announced size or is no image; nothing was stored.
    /// </summary>
    /// <param name="reason">A short English reason, e.g. "size mismatch".</param>
    public static string UploadFailed(string reason) => Error("Falha no upload: " + reason);

    private static P2Json Status(string status) => P2Json.Object().Put("status", status);

    private static string Row(P2ListedFile file) =>
        P2Json.Object().Put("filename", file.Filename).Put("uploader", file.Uploader).End();

    private static string ListEnvelope(string data) => Status("SUCCESS").Put("cmd", "LIST").PutRaw("data", data).End();
}
