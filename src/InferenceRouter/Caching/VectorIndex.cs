using System.Numerics;
using System.Numerics.Tensors;

namespace InferenceRouter;

/// <summary>
/// The vectors of one cache partition. Small indexes are scanned exactly (SIMD dot products over a contiguous array); past
/// <see cref="ApproximateThreshold"/> entries, a scan of 1-bit sign codes (Hamming distance, 48 bytes per MiniLM vector) picks
/// <see cref="Candidates"/> candidates (256 by default) that are re-ranked exactly.
/// </summary>
/// <remarks>Thread-safe: searches share a read lock; adds and removals take the write lock briefly.</remarks>
internal sealed class VectorIndex
{
    public const int ApproximateThreshold = 8_192;
    public const int DefaultCandidates = 256;

    private readonly int _dimensions;
    private readonly int _words;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly Stack<int> _free = new();
    private float[] _vectors;
    private ulong[] _codes;
    private string?[] _keys;
    private object?[] _owners;
    // One slot to start: most partitions (one per conversation) hold a single entry. Capacity stays within twice the live count (Grow
    // doubles a full index; Remove shrinks one under half full to 1.5x), which is what BytesPerEntry charges each entry for.
    private const int MinimumCapacity = 1;
    private int _used;
    private bool _retired;

    public VectorIndex(int dimensions, int capacity = MinimumCapacity, int candidates = DefaultCandidates)
    {
        capacity = Math.Max(capacity, MinimumCapacity);
        Candidates = candidates;
        _dimensions = dimensions;
        _words = (dimensions + 63) / 64;
        _vectors = new float[capacity * dimensions];
        _codes = new ulong[capacity * _words];
        _keys = new string?[capacity];
        _owners = new object?[capacity];
    }

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _slots.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Gets how many pre-selected candidates are re-ranked exactly.</summary>
    public int Candidates { get; }

    /// <summary>Gets a value indicating whether searches use the 1-bit pre-selection (false forces exact scans, for measuring recall).</summary>
    public bool UseApproximation { get; set; } = true;

    /// <summary>Gets the bytes the index holds (vectors, codes, keys and owners of every slot, used or not, its key map and its own objects).</summary>
    public long EstimatedBytes
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return FixedBytes + (_keys.Length * SlotBytes(_dimensions)) + (_slots.Count * KeyMapBytesPerKey);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Returns what one entry's vector can cost in an index at most: two slots (capacity stays within twice the live count), its key map
    /// entry, and a whole index's own objects (an entry may be its partition's only one: one conversation per entry).
    /// </summary>
    public static long BytesPerEntry(int dimensions) => (2 * SlotBytes(dimensions)) + KeyMapBytesPerKey + FixedBytes;

    /// <summary>A slot: its vector, its sign code, its key and owner references and its place on the free stack.</summary>
    private static long SlotBytes(int dimensions) => (dimensions * sizeof(float)) + (((dimensions + 63) / 64) * sizeof(ulong)) + (2 * HeapBytes.Reference) + sizeof(int);

    /// <summary>A Dictionary&lt;string, int&gt; entry and bucket, twice (its arrays grow by doubling).</summary>
    private const long KeyMapBytesPerKey = 2 * (24 + sizeof(int));

    /// <summary>
    /// The index's own objects with their array headers: this object, the lock, the key map, the free stack, four slot arrays, and
    /// its node in the cache's partition map (from their layout, rounded up; CacheMemoryTests checks the total against the real heap).
    /// </summary>
    private const long FixedBytes = 768;

    /// <summary>Adds or replaces <paramref name="key"/>'s vector; false when the index was retired (empty and dropped): use a new one.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="vector">Its vector.</param>
    /// <param name="owner">What the vector belongs to (the cache entry): a later <see cref="Remove"/> for a replaced owner leaves it alone.</param>
    public bool Add(string key, ReadOnlySpan<float> vector, object? owner = null)
    {
        if (vector.Length != _dimensions)
        {
            throw new ArgumentException($"The vector has {vector.Length} dimensions; this index holds {_dimensions}.", nameof(vector));
        }

        _lock.EnterWriteLock();
        try
        {
            if (_retired)
            {
                return false;
            }

            if (!_slots.TryGetValue(key, out int slot))
            {
                slot = _free.Count > 0 ? _free.Pop() : _used++;
                if (slot >= _keys.Length)
                {
                    Grow();
                }

                _slots[key] = slot;
                _keys[slot] = key;
            }

            _owners[slot] = owner;

            vector.CopyTo(_vectors.AsSpan(slot * _dimensions, _dimensions));
            Encode(vector, _codes.AsSpan(slot * _words, _words));
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Removes <paramref name="key"/>'s vector, if it still belongs to <paramref name="owner"/> (any owner when null).</summary>
    public bool Remove(string key, object? owner = null)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slots.TryGetValue(key, out int slot) || (owner is not null && !ReferenceEquals(_owners[slot], owner)))
            {
                return false;
            }

            _slots.Remove(key);
            _keys[slot] = null;
            _owners[slot] = null;
            _free.Push(slot);
            if (_slots.Count > 0 && _slots.Count * 2 < _keys.Length)
            {
                Shrink();
            }

            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Retires the index if it is empty (its owner then drops it); a retired index takes no more vectors.</summary>
    public bool TryRetireIfEmpty()
    {
        _lock.EnterWriteLock();
        try
        {
            _retired |= _slots.Count == 0;
            return _retired;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Finds the most similar stored vector to <paramref name="query"/> (L2-normalised) and the runner-up's similarity.</summary>
    public VectorMatch? Search(ReadOnlySpan<float> query)
    {
        _lock.EnterReadLock();
        try
        {
            if (_slots.Count == 0)
            {
                return null;
            }

            return UseApproximation && _slots.Count > ApproximateThreshold ? SearchApproximate(query) : SearchExact(query);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private VectorMatch? SearchExact(ReadOnlySpan<float> query)
    {
        int best = -1, second = -1;
        float bestScore = float.MinValue, secondScore = float.MinValue;
        for (int slot = 0; slot < _used; slot++)
        {
            if (_keys[slot] is null)
            {
                continue;
            }

            float score = TensorPrimitives.Dot(query, _vectors.AsSpan(slot * _dimensions, _dimensions));
            Rank(slot, score, ref best, ref bestScore, ref second, ref secondScore);
        }

        return best < 0 ? null : new VectorMatch(_keys[best]!, bestScore, second < 0 ? null : secondScore);
    }

    private VectorMatch? SearchApproximate(ReadOnlySpan<float> query)
    {
        Span<ulong> code = stackalloc ulong[_words];
        Encode(query, code);

        // Keep the Candidates smallest Hamming distances (a small max-heap by distance).
        Span<int> heapSlots = Candidates <= 512 ? stackalloc int[Candidates] : new int[Candidates];
        Span<int> heapDistances = Candidates <= 512 ? stackalloc int[Candidates] : new int[Candidates];
        int size = 0;
        for (int slot = 0; slot < _used; slot++)
        {
            if (_keys[slot] is null)
            {
                continue;
            }

            var codes = _codes.AsSpan(slot * _words, _words);
            int distance = 0;
            for (int w = 0; w < code.Length; w++)
            {
                distance += BitOperations.PopCount(codes[w] ^ code[w]);
            }

            if (size < Candidates)
            {
                heapSlots[size] = slot;
                heapDistances[size] = distance;
                SiftUp(heapSlots, heapDistances, size++);
            }
            else if (distance < heapDistances[0])
            {
                heapSlots[0] = slot;
                heapDistances[0] = distance;
                SiftDown(heapSlots, heapDistances, size);
            }
        }

        int best = -1, second = -1;
        float bestScore = float.MinValue, secondScore = float.MinValue;
        for (int i = 0; i < size; i++)
        {
            int slot = heapSlots[i];
            float score = TensorPrimitives.Dot(query, _vectors.AsSpan(slot * _dimensions, _dimensions));
            Rank(slot, score, ref best, ref bestScore, ref second, ref secondScore);
        }

        return best < 0 ? null : new VectorMatch(_keys[best]!, bestScore, second < 0 ? null : secondScore);
    }

    private static void Rank(int slot, float score, ref int best, ref float bestScore, ref int second, ref float secondScore)
    {
        if (score > bestScore)
        {
            second = best;
            secondScore = bestScore;
            best = slot;
            bestScore = score;
        }
        else if (score > secondScore)
        {
            second = slot;
            secondScore = score;
        }
    }

    private static void Encode(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        code.Clear();
        for (int i = 0; i < vector.Length; i++)
        {
            if (vector[i] > 0)
            {
                code[i >> 6] |= 1UL << (i & 63);
            }
        }
    }

    private static void SiftUp(Span<int> slots, Span<int> distances, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (distances[parent] >= distances[i])
            {
                break;
            }

            (slots[parent], slots[i]) = (slots[i], slots[parent]);
            (distances[parent], distances[i]) = (distances[i], distances[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> slots, Span<int> distances, int size)
    {
        int i = 0;
        while (true)
        {
            int left = (2 * i) + 1, right = left + 1, largest = i;
            if (left < size && distances[left] > distances[largest])
            {
                largest = left;
            }

            if (right < size && distances[right] > distances[largest])
            {
                largest = right;
            }

            if (largest == i)
            {
                return;
            }

            (slots[largest], slots[i]) = (slots[i], slots[largest]);
            (distances[largest], distances[i]) = (distances[i], distances[largest]);
            i = largest;
        }
    }

    /// <summary>Moves the live vectors to the front of arrays 1.5 times their count, so an index that empties gives its memory back.</summary>
    private void Shrink()
    {
        int capacity = Math.Max(MinimumCapacity, _slots.Count + ((_slots.Count + 1) / 2));
        var vectors = new float[capacity * _dimensions];
        var codes = new ulong[capacity * _words];
        var keys = new string?[capacity];
        var owners = new object?[capacity];
        int next = 0;
        foreach (var key in _slots.Keys.ToArray())
        {
            int slot = _slots[key];
            _vectors.AsSpan(slot * _dimensions, _dimensions).CopyTo(vectors.AsSpan(next * _dimensions));
            _codes.AsSpan(slot * _words, _words).CopyTo(codes.AsSpan(next * _words));
            keys[next] = key;
            owners[next] = _owners[slot];
            _slots[key] = next++;
        }

        (_vectors, _codes, _keys, _owners, _used) = (vectors, codes, keys, owners, next);
        _free.Clear();
    }

    private void Grow()
    {
        int capacity = _keys.Length * 2;
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _owners, capacity);
        Array.Resize(ref _vectors, capacity * _dimensions);
        Array.Resize(ref _codes, capacity * _words);
    }
}
