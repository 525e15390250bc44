//! `.npy` export: float32 arrays that `numpy.load` reads as they are.

use std::path::Path;

use ndarray::Array2;

use crate::error::Error;

/// Write a spectrogram as a float32 `.npy` file (`[n_freq, n_frames]`, C order).
///
/// `numpy.load(path)` returns the same `(n_freq, n_frames)` float32 array.
///
/// # Errors
/// [`Error::WriteNpy`] with the path when the file cannot be created or written.
pub fn write_npy(path: &Path, spectrogram: &Array2<f32>) -> Result<(), Error> {
    // A transposed or sliced view would be written in Fortran order; keep files plain C order.
    let standard = spectrogram.as_standard_layout();
    ndarray_npy::write_npy(path, &standard).map_err(|source| Error::WriteNpy {
        path: path.to_path_buf(),
        source,
    })
}

/// Read a 2-D float32 `.npy` file (as written by [`write_npy`] or `numpy.save`).
///
/// # Errors
/// [`Error::ReadNpy`] with the path when the file is missing, not `.npy`, not
/// float32 or not 2-D.
pub fn read_npy(path: &Path) -> Result<Array2<f32>, Error> {
    ndarray_npy::read_npy(path).map_err(|source| Error::ReadNpy {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_preserves_shape_and_values() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("spec.npy");
        let a = Array2::from_shape_fn((3, 5), |(i, j)| i as f32 * 10.0 + j as f32 - 0.25);
        write_npy(&path, &a).expect("write");
        assert_eq!(read_npy(&path).expect("read"), a);
        // A transposed view comes back with its logical shape and values.
        let t = a.t().to_owned();
        write_npy(&path, &a.t().to_owned()).expect("write");
        assert_eq!(read_npy(&path).expect("read"), t);
        // ndarray-npy itself reads the file back (what other crates use).
        let direct: Array2<f32> = ndarray_npy::read_npy(&path).expect("read");
        assert_eq!(direct, t);
    }

    #[test]
    fn header_is_numpy_float32() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("spec.npy");
        write_npy(&path, &Array2::zeros((2, 3))).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[10..bytes.len().min(128)]);
        assert!(header.contains("'descr': '<f4'"), "{header}");
        assert!(header.contains("'fortran_order': False"), "{header}");
        assert!(header.contains("'shape': (2, 3)"), "{header}");
    }

    #[test]
    fn errors_carry_the_path() {
        let missing = Path::new("/nonexistent-dir/spec.npy");
        let err = read_npy(missing)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/nonexistent-dir/spec.npy"), "{err}");
        let err = write_npy(missing, &Array2::zeros((1, 1)))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/nonexistent-dir/spec.npy"), "{err}");
    }
}
