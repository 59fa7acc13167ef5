//! The project a distribution file belongs to, read from its name.
//!
//! Indexes such as pypiserver store an upload under its file name and ignore the form's
//! `name`, so the gateway checks that the file is the project the token was checked
//! for: otherwise a token for `a` could upload `b-1.0.tar.gz`.

use trustmint_publishers::ProjectName;

/// Why a file name is refused (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FileNameError {
    /// A path, an empty name, or not a wheel or an sdist.
    #[error(
        "invalid distribution file name '{0}': expected a .whl, .tar.gz or .zip named after the project"
    )]
    Invalid(String),
    /// The file is another project's.
    #[error("file '{file}' does not belong to project '{project}'")]
    OtherProject {
        /// The file name.
        file: String,
        /// The project of the form.
        project: String,
    },
}

/// Checks that `file_name` is a distribution of `project`.
pub(crate) fn check(file_name: &str, project: &ProjectName) -> Result<(), FileNameError> {
    let invalid = || FileNameError::Invalid(file_name.to_owned());
    if file_name.contains(['/', '\\']) || file_name.starts_with('.') {
        return Err(invalid());
    }
    let distribution = if let Some(stem) = file_name.strip_suffix(".whl") {
        // {name}-{version}(-{build})?-{python}-{abi}-{platform}: the name never holds '-'.
        let parts: Vec<&str> = stem.split('-').collect();
        if !(5..=6).contains(&parts.len()) {
            return Err(invalid());
        }
        parts[0]
    } else if let Some(stem) = file_name
        .strip_suffix(".tar.gz")
        .or_else(|| file_name.strip_suffix(".zip"))
    {
        // {name}-{version}: versions hold no '-', older sdist names may.
        stem.rsplit_once('-').ok_or_else(invalid)?.0
    } else {
        return Err(invalid());
    };
    let distribution = ProjectName::parse(distribution).map_err(|_| invalid())?;
    if &distribution != project {
        return Err(FileNameError::OtherProject {
            file: file_name.to_owned(),
            project: project.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheels_and_sdists_of_the_project_pass() {
        let project = ProjectName::parse("Sample.Project").unwrap();
        for file in [
            "sample_project-1.0.tar.gz",
            "Sample.Project-1.0.zip",
            "sample-project-1.0.tar.gz",
            "sample_project-1.0-py3-none-any.whl",
            "sample_project-1.0-1-cp312-cp312-manylinux_2_17_x86_64.whl",
        ] {
            assert_eq!(check(file, &project), Ok(()), "{file}");
        }
    }

    #[test]
    fn other_projects_and_odd_names_are_refused() {
        let project = ProjectName::parse("sampleproject").unwrap();
        assert_eq!(
            check("victim-1.0.tar.gz", &project),
            Err(FileNameError::OtherProject {
                file: "victim-1.0.tar.gz".into(),
                project: "sampleproject".into()
            })
        );
        assert!(matches!(
            check("victim-1.0-py3-none-any.whl", &project),
            Err(FileNameError::OtherProject { .. })
        ));
        for file in [
            "../sampleproject-1.0.tar.gz",
            "sampleproject-1.0.exe",
            "sampleproject.tar.gz",
            "sampleproject-1.0.whl",
            ".sampleproject-1.0.tar.gz",
        ] {
            assert_eq!(
                check(file, &project),
                Err(FileNameError::Invalid(file.into())),
                "{file}"
            );
        }
    }
}
