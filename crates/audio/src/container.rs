//! Recognising the container from a file's first bytes, opening symphonia's FLAC reader
//! (WAV is read by [`crate::wav`]), and mapping symphonia's errors onto ours.

use std::io;
use std::path::Path;

use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::default::formats::FlacReader;

use crate::error::Error;
use crate::info::Codec;

/// Decides the container from the first bytes. Returns it and how many bytes to skip
/// (an ID3v2 tag in front of a FLAC stream).
pub(crate) fn sniff(head: &[u8], file_len: u64, path: &Path) -> Result<(Codec, u64), Error> {
    let not_audio = |detail: String| Error::NotAudio {
        path: path.to_path_buf(),
        detail,
    };
    let unsupported = |detail: &str| Error::Unsupported {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    if head.len() < 4 {
        return Err(not_audio(format!("only {file_len} bytes long")));
    }
    match &head[..4] {
        b"fLaC" => Ok((Codec::Flac, 0)),
        b"RIFF" | b"RIFX" | b"RF64" if head.len() >= 12 && &head[8..12] == b"WAVE" => {
            Ok((Codec::Wav, 0))
        }
        b"RIFF" if head.len() >= 12 => Err(not_audio(format!(
            "a RIFF file of type {}, not WAVE",
            describe_bytes(&head[8..12])
        ))),
        b"RIFF" => Err(not_audio(format!(
            "a RIFF header cut off after {file_len} bytes"
        ))),
        b"BW64" => Err(unsupported("64-bit broadcast WAV (BW64)")),
        _ if head.len() >= 10 && &head[..3] == b"ID3" => {
            // ID3v2: 10-byte header, 28-bit "syncsafe" size, optional 10-byte footer.
            let size = head[6..10]
                .iter()
                .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7f));
            let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
            tracing::warn!(
                "{}: skipping an ID3 tag in front of the audio stream",
                path.display()
            );
            Ok((Codec::Flac, 10 + size + footer))
        }
        _ => Err(not_audio(format!(
            "it starts with {}",
            describe_bytes(&head[..head.len().min(12)])
        ))),
    }
}

/// Quotes bytes as (escaped) text when mostly printable, as hex otherwise.
fn describe_bytes(bytes: &[u8]) -> String {
    let printable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if printable * 4 >= bytes.len() * 3 {
        format!("\"{}\"", bytes.escape_ascii())
    } else {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

/// Opens symphonia's FLAC reader on a stream positioned at the `fLaC` marker.
pub(crate) fn open_flac_reader(
    mss: MediaSourceStream,
    path: &Path,
) -> Result<Box<dyn FormatReader>, Error> {
    let options = FormatOptions::default();
    let reader = FlacReader::try_new(mss, &options).map(|r| Box::new(r) as Box<dyn FormatReader>);
    reader.map_err(|e| match e {
        SymError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => Error::Corrupt {
            path: path.to_path_buf(),
            detail: "the header is cut off (unexpected end of file)".to_string(),
        },
        // An ID3 tag that turned out not to precede FLAC.
        SymError::Unsupported(msg) if msg.contains("marker") => Error::NotAudio {
            path: path.to_path_buf(),
            detail: "FLAC stream marker missing".to_string(),
        },
        other => symphonia_error(other, path),
    })
}

/// Maps an error raised while reading packets; `frames` is how far decoding got.
pub(crate) fn stream_error(e: SymError, path: &Path, frames: usize) -> Error {
    match e {
        SymError::DecodeError(msg) => Error::Corrupt {
            path: path.to_path_buf(),
            detail: format!("{msg} (after {frames} frames)"),
        },
        other => symphonia_error(other, path),
    }
}

pub(crate) fn symphonia_error(e: SymError, path: &Path) -> Error {
    let path = path.to_path_buf();
    match e {
        SymError::IoError(source) => Error::Read { path, source },
        SymError::DecodeError(msg) => Error::Corrupt {
            path,
            detail: msg.to_string(),
        },
        SymError::Unsupported(msg) => Error::Unsupported {
            path,
            detail: msg.to_string(),
        },
        SymError::LimitError(msg) => Error::Corrupt {
            path,
            detail: format!("decoder limit exceeded: {msg}"),
        },
        SymError::ResetRequired => Error::Unsupported {
            path,
            detail: "stream parameters change mid-stream".to_string(),
        },
        SymError::SeekError(kind) => Error::Corrupt {
            path,
            detail: format!("seek failed: {kind:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_names_what_it_found() {
        let p = Path::new("x.wav");
        assert!(matches!(
            sniff(b"fLaC\0\0\0\x22", 8, p),
            Ok((Codec::Flac, 0))
        ));
        assert!(matches!(
            sniff(b"RIFF\0\0\0\0WAVEfmt ", 16, p),
            Ok((Codec::Wav, 0))
        ));
        let e = sniff(b"hello world\n", 12, p)
            .map(|_| ())
            .expect_err("text");
        assert!(
            e.to_string().ends_with("it starts with \"hello world\\n\""),
            "{e}"
        );
        assert!(matches!(
            sniff(b"RIFF\0\0\0\0AVI ", 12, p),
            Err(Error::NotAudio { .. })
        ));
        assert!(matches!(
            sniff(b"RF64\0\0\0\0WAVE", 12, p),
            Ok((Codec::Wav, 0))
        ));
        assert!(matches!(
            sniff(b"BW64\0\0\0\0WAVE", 12, p),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(sniff(b"ab", 2, p), Err(Error::NotAudio { .. })));
        // ID3v2 tag of 0x101 = 257 bytes (syncsafe 0x02 0x01), no footer.
        let id3 = [b'I', b'D', b'3', 4, 0, 0, 0, 0, 2, 1];
        assert!(matches!(sniff(&id3, 300, p), Ok((Codec::Flac, 267))));
    }

    #[test]
    fn describe_bytes_quotes_text_and_hexes_binary() {
        assert_eq!(describe_bytes(b"OggS"), "\"OggS\"");
        assert_eq!(
            describe_bytes(&[0xff, 0xfb, 0x90, 0x00]),
            "bytes ff fb 90 00"
        );
        assert_eq!(describe_bytes(b"1\t2\n3\xff"), "\"1\\t2\\n3\\xff\"");
    }
}
