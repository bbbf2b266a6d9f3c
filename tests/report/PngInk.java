// SPDX-License-Identifier: GPL-2.0-or-later
// PngInk FILE.png - reads a screenshot (javax.imageio) and prints the share
// of pixels that are not white and how many distinct strong colours it
// holds (the charts' lines), so that a test can tell a drawn report from a
// blank or text-only page.
import java.awt.image.BufferedImage;
import java.io.File;
import java.util.HashSet;
import javax.imageio.ImageIO;

public class PngInk {
    public static void main(String[] args) throws Exception {
        BufferedImage img = ImageIO.read(new File(args[0]));
        long ink = 0, all = (long) img.getWidth() * img.getHeight();
        HashSet<Integer> hues = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y), r = p >> 16 & 255, g = p >> 8 & 255, b = p & 255;
                if (r < 245 || g < 245 || b < 245)
                    ink++;
                int max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b));
                if (max - min > 80) // saturated: a chart's colour, not grey text
                    hues.add((r / 64) << 4 | (g / 64) << 2 | (b / 64));
            }
        System.out.printf("ink %.4f colours %d size %dx%d%n", (double) ink / all, hues.size(),
                          img.getWidth(), img.getHeight());
    }
}
