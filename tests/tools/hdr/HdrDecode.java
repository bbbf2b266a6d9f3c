// SPDX-License-Identifier: GPL-2.0-or-later
// HdrDecode - decodes HdrHistogram strings with Debian's libhdrhistogram-java
// (an implementation that is not ours) and prints "total N", then
// "VALUE COUNT" for each recorded bucket (VALUE: its highest equivalent
// value), the same lines as bench/hdr_tool's decode.
import java.nio.ByteBuffer;
import java.util.Base64;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

public class HdrDecode {
    public static void main(String[] args) throws Exception {
        for (String s : args) {
            ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(s));
            Histogram h = Histogram.decodeFromCompressedByteBuffer(buf, 0);
            System.out.println("total " + h.getTotalCount());
            for (HistogramIterationValue v : h.recordedValues())
                System.out.println(v.getValueIteratedTo() + " " + v.getCountAtValueIteratedTo());
        }
    }
}
