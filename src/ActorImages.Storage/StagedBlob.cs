namespace ActorImages.Storage;

/// <summary>
/// An upload that <see cref="BlobWriter.FinishAsync"/> accepted: whole, its header read (not for a copy), still in its temp file under
/// <c>dataDir/.tmp</c> and so not visible, and not fsynced yet. <see cref="BlobStore.CommitAsync"/> makes it durable
/// and visible.
/// </summary>
/// <param name="TempFile">absolute path of the temp file</param>
/// <param name="Size">size in bytes, exactly as sent</param>
/// <param name="Md5">lowercase hex MD5 of the bytes as sent (32 characters): the legacy id of docs/protocols.md, P3
/// and P4; empty for a copy (<see cref="BlobStore.NewCopyWriter"/>)</param>
/// <param name="Sha256">lowercase hex SHA-256 of the bytes as sent (64 characters)</param>
/// <param name="Format">the format whose decoder read the header; decides the extension</param>
/// <param name="Width">width in pixels, from the header; 0 for a copy</param>
/// <param name="Height">height in pixels, from the header; 0 for a copy</param>
public sealed record StagedBlob(
    string TempFile, long Size, string Md5, string Sha256, ImageFormat Format, int Width, int Height);
