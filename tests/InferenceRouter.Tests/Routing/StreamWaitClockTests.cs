using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace InferenceRouter.Tests.Routing;

/// <summary>The provider's time in a stream: waits that went asynchronous are timed exactly, immediate ones are sampled and scaled.</summary>
public sealed class StreamWaitClockTests
{
    [Fact]
    public void Waits_that_did_not_complete_at_once_are_timed_exactly()
    {
        var time = new FakeTimeProvider();
        var clock = default(StreamWaitClock);
        for (int i = 0; i < 37; i++)
        {
            long started = clock.Start(time);
            started = clock.StartPending(time, started);
            time.Advance(TimeSpan.FromMilliseconds(7));
            clock.EndPending(time, started);
        }

        clock.Elapsed(time).Should().Be(TimeSpan.FromMilliseconds(37 * 7));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Immediate_waits_are_estimated_from_a_sample_and_a_reader_s_time_is_never_counted(int seed)
    {
        var random = new Random(seed);
        var time = new FakeTimeProvider();
        var clock = default(StreamWaitClock);
        double truth = 0;
        for (int i = 0; i < 400; i++)
        {
            long started = clock.Start(time);
            bool pending = random.NextDouble() < 0.2;
            if (pending)
            {
                started = clock.StartPending(time, started);
            }

            double ms = pending ? 20 + random.Next(30) : 1 + random.Next(5); // a provider: slow network waits, quick buffered chunks
            time.Advance(TimeSpan.FromMilliseconds(ms));
            truth += ms;
            if (pending)
            {
                clock.EndPending(time, started);
            }
            else
            {
                clock.EndImmediate(time, started);
            }

            time.Advance(TimeSpan.FromMilliseconds(random.Next(50))); // the caller reading: never the provider's time
        }

        clock.Elapsed(time).TotalMilliseconds.Should().BeApproximately(truth, truth * 0.05);
    }

    [Fact]
    public void A_short_stream_is_timed_whole_and_no_waits_is_no_time()
    {
        var time = new FakeTimeProvider();
        default(StreamWaitClock).Elapsed(time).Should().Be(TimeSpan.Zero);
        var clock = default(StreamWaitClock);
        for (int i = 0; i < StreamWaitClock.TimedFirst; i++)
        {
            long started = clock.Start(time);
            time.Advance(TimeSpan.FromMilliseconds(i + 1));
            clock.EndImmediate(time, started);
        }

        clock.Elapsed(time).Should().Be(TimeSpan.FromMilliseconds(Enumerable.Range(1, StreamWaitClock.TimedFirst).Sum()));
    }
}
