namespace ActorImages.Cli;

/// <summary>
/// A file being received into a folder: bytes go to a hidden temp file in that folder and become visible under
/// their final name only on <see cref="Commit"/>, so an interrupted or rejected transfer leaves nothing behind. An
/// existing file is never replaced unless <c>--force</c>.
/// </summary>
internal sealed class Destination : IDisposable
{
    private readonly string _folder;
    private readonly bool _replace;
    private readonly string _temp;
    private bool _committed;

    private Destination(string folder, bool replace, string temp, FileStream stream)
    {
        _folder = folder;
        _replace = replace;
        _temp = temp;
        Stream = stream;
    }

    /// <summary>Where the received bytes go.</summary>
    public FileStream Stream { get; }

    /// <summary>Opens a hidden temp file <c>.actorimages-&lt;random&gt;.part</c> in <paramref name="folder"/>.</summary>
    /// <param name="folder">The folder to save into.</param>
    /// <param name="replace">Whether <see cref="Commit"/> may replace an existing file (<c>--force</c>).</param>
    /// <exception cref="CliFailure">(<see cref="Exit.LocalFile"/>) if the folder is missing or not writable.</exception>
    public static Destination In(string folder, bool replace)
    {
        if (!Directory.Exists(folder)) throw CliFailure.LocalFile("no such folder: " + folder);
        string temp = Path.Combine(folder, $".actorimages-{Guid.NewGuid():N}.part");
        try
        {
            return new Destination(folder, replace, temp, new FileStream(temp, FileMode.CreateNew, FileAccess.Write));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot write in: {folder} ({e.Message})", e);
        }
    }

    /// <summary>
    /// Fails early, before any transfer, if <paramref name="folder"/> is missing or <paramref name="name"/> is
    /// taken in it and <paramref name="replace"/> is false.
    /// </summary>
    public static void CheckFree(string folder, string name, bool replace)
    {
        if (!Directory.Exists(folder)) throw CliFailure.LocalFile("no such folder: " + folder);
        string target = Path.Combine(folder, SafeName(name));
        if (!replace && Path.Exists(target)) throw CliFailure.LocalFile($"file exists: {target} (--force replaces it)");
    }

    /// <summary>
    /// Flushes the bytes to disk and moves them to <c>folder/name</c> (<paramref name="name"/> reduced to a safe
    /// last path element).
    /// </summary>
    /// <returns>The final path.</returns>
    /// <exception cref="CliFailure">(<see cref="Exit.LocalFile"/>) if the file exists and replacing is off, or the
    /// move fails.</exception>
    public string Commit(string name)
    {
        string target = Path.Combine(_folder, SafeName(name));
        try
        {
            Stream.Flush(flushToDisk: true);
            Stream.Dispose();
            if (_replace)
            {
                File.Move(_temp, target, overwrite: true);
            }
            else
            {
                // Without overwrite the move fails if the name is taken, even by a file that appeared meanwhile.
                File.Move(_temp, target, overwrite: false);
            }
            _committed = true;
            return target;
        }
        catch (IOException e) when (Path.Exists(target) && !_replace)
        {
            throw CliFailure.LocalFile($"file exists: {target} (--force replaces it)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot write: {target} ({e.Message})", e);
        }
    }

    /// <summary>
    /// A name safe to create in a folder: the last element of <paramref name="name"/> as a path (a node's or
    /// peer's name must not lead outside the folder), or <c>download</c> when nothing usable is left.
    /// </summary>
    public static string SafeName(string name)
    {
        string last = name.Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..].Trim().Replace('\0', '_');
        return last is "" or "." or ".." ? "download" : last;
    }

    /// <summary>Deletes the temp file unless committed.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
        {
            try
            {
                File.Delete(_temp);
            }
            catch (IOException)
            {
                // a stray hidden .part file is the worst outcome
            }
        }
    }
}
