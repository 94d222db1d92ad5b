using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace InferenceRouter;

/// <summary>
/// Hashes the parts of a request into a cache key as they are written: each part is length-prefixed (so no two different requests
/// write the same bytes) and text is encoded in small chunks (a long prompt is never copied whole). Numbers are written invariantly,
/// so keys are the same in every process and culture.
/// </summary>
internal sealed class CacheKeyWriter : IDisposable
{
    private const int ChunkChars = 512;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(ChunkChars));

    /// <summary>Writes a field name and its text.</summary>
    public void Write(string name, ReadOnlySpan<char> value)
    {
        WriteText(name);
        WriteText(value);
    }

    /// <summary>Writes a field that may be absent: absent and empty differ.</summary>
    public void Write(string name, string? value)
    {
        WriteText(name);
        if (value is null)
        {
            WriteLength(-1);
        }
        else
        {
            WriteText(value);
        }
    }

    public void Write(string name, double? value) => Write(name, value?.ToString("R", CultureInfo.InvariantCulture));

    public void Write(string name, long? value) => Write(name, value?.ToString(CultureInfo.InvariantCulture));

    public void Write(string name, bool? value) => Write(name, value is null ? null : value.Value ? "true" : "false");

    /// <summary>Writes raw bytes (a canonical serialisation).</summary>
    public void Write(string name, ReadOnlySpan<byte> value)
    {
        WriteText(name);
        WriteLength(value.Length);
        _hash.AppendData(value);
    }

    /// <summary>Returns the key: the first 128 bits of the SHA-256, in hex.</summary>
    public string Finish() => Convert.ToHexString(_hash.GetHashAndReset().AsSpan(0, 16));

    public void Dispose()
    {
        _hash.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
    }

    private void WriteText(ReadOnlySpan<char> text)
    {
        WriteLength(text.Length);
        while (!text.IsEmpty)
        {
            var chunk = text[..Math.Min(ChunkChars, text.Length)];
            if (chunk.Length < text.Length && char.IsHighSurrogate(chunk[^1]))
            {
                chunk = chunk[..^1]; // never split a surrogate pair across chunks
            }

            int bytes = Encoding.UTF8.GetBytes(chunk, _buffer);
            _hash.AppendData(_buffer, 0, bytes);
            text = text[chunk.Length..];
        }
    }

    private void WriteLength(int length)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, length);
        _hash.AppendData(bytes);
    }
}
